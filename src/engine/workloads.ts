import { type ImageParser, type ImageRef, parseImage } from "./image-ref.js";
import {
  type Container,
  type KubeObject,
  type ObjectMeta,
  type PodSpec,
  stringField,
} from "./kube.js";
import { getAt, type Path } from "./paths.js";
import type { ResourceRef } from "./types.js";
import { asRecord } from "./values.js";

/** Where each workload kind keeps the pod it runs, as a path to the pod template. */
const POD_TEMPLATE: Readonly<Record<string, Path>> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** Kinds whose pods run to completion; long-running rules skip them. */
const RUN_TO_COMPLETION = new Set(["Job", "CronJob"]);

export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_TEMPLATE);

/**
 * A kind beyond the built-in ones whose objects carry a pod template (Argo
 * Rollouts, for one), as a PolicySet's `workloadKinds` names it.
 */
export interface WorkloadKind {
  /** The API group, e.g. `argoproj.io`. */
  group: string;
  kind: string;
  /** Plural resource name, for the webhook registration. */
  resource: string;
  /** API versions that keep the template at `podTemplate`; empty means any. */
  versions: readonly string[];
  /** Path to the pod template (an object with `metadata` and `spec`). */
  podTemplate: Path;
}

/** Where an object of this apiVersion and kind keeps its pod template, if it has one. */
export type PodTemplateLookup = (apiVersion: string, kind: string) => Path | undefined;

/** The built-in kinds, matched by kind alone, as they always were. */
export const builtInPodTemplates: PodTemplateLookup = (_apiVersion, kind) => POD_TEMPLATE[kind];

/** The built-in kinds and `extra`, each of which must match group, kind and version. */
export function podTemplateLookup(extra: readonly WorkloadKind[]): PodTemplateLookup {
  if (extra.length === 0) return builtInPodTemplates;
  const byKind = new Map<string, WorkloadKind[]>();
  for (const entry of extra) byKind.set(entry.kind, [...(byKind.get(entry.kind) ?? []), entry]);
  return (apiVersion, kind) => {
    const builtIn = POD_TEMPLATE[kind];
    if (builtIn) return builtIn;
    const entries = byKind.get(kind);
    if (!entries) return undefined;
    const slash = apiVersion.lastIndexOf("/");
    const group = slash === -1 ? "" : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    return entries.find(
      (e) => e.group === group && (e.versions.length === 0 || e.versions.includes(version)),
    )?.podTemplate;
  };
}

export const CONTAINER_GROUPS = ["initContainers", "containers", "ephemeralContainers"] as const;
export type ContainerGroup = (typeof CONTAINER_GROUPS)[number];

/** One pod spec found in an object, with where it lives. */
export interface PodTarget {
  resource: ResourceRef;
  /** The whole object, for building patches with absolute paths. */
  object: KubeObject;
  spec: PodSpec;
  metadata: ObjectMeta;
  specPath: Path;
  metadataPath: Path;
  /** False for Jobs, CronJobs and Pods a Job owns. */
  longRunning: boolean;
  /** Found once per evaluation, since most policies walk them. */
  containers: readonly ContainerTarget[];
}

export interface ContainerTarget {
  container: Container;
  group: ContainerGroup;
  index: number;
  name: string;
  image: string;
  /** `image` parsed, once per evaluation for every policy that reads it; undefined when empty. */
  imageRef: ImageRef | undefined;
  path: Path;
}

export function resourceOf(object: KubeObject, namespace: string | undefined): ResourceRef {
  const meta: Record<string, unknown> = asRecord(object.metadata) ?? {};
  const generateName = stringField(meta.generateName);
  return {
    apiVersion: stringField(object.apiVersion) ?? "",
    kind: stringField(object.kind) ?? "",
    namespace: stringField(meta.namespace) ?? namespace,
    name: stringField(meta.name) ?? (generateName ? `${generateName}*` : "<unnamed>"),
  };
}

/** `Deployment "web"`: how every message about an object names it. */
export function describeResource(resource: Pick<ResourceRef, "kind" | "name">): string {
  return `${resource.kind} "${resource.name}"`;
}

export function isWorkloadKind(kind: string): boolean {
  return kind in POD_TEMPLATE;
}

function ownedByJob(meta: ObjectMeta): boolean {
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  return owners.some((ref) => ref?.kind === "Job");
}

/**
 * The pod spec an object carries, or undefined for kinds without one.
 * `images` parses each container's image (a policy set's memo, in the engine).
 */
export function podTargetOf(
  object: KubeObject,
  resource: ResourceRef,
  podTemplates: PodTemplateLookup = builtInPodTemplates,
  images: ImageParser = parseImage,
): PodTarget | undefined {
  const templatePath = podTemplates(resource.apiVersion, resource.kind);
  if (!templatePath) return undefined;
  const template = templatePath.length === 0 ? object : asRecord(getAt(object, templatePath));
  const spec = asRecord(template?.spec);
  if (!template || !spec) return undefined;
  const metadata = (asRecord(template.metadata) ?? {}) as ObjectMeta;
  const objectMeta = object.metadata ?? {};
  const specPath = [...templatePath, "spec"];
  return {
    resource,
    object,
    spec: spec as PodSpec,
    metadata,
    specPath,
    metadataPath: [...templatePath, "metadata"],
    longRunning:
      !RUN_TO_COMPLETION.has(resource.kind) && !(resource.kind === "Pod" && ownedByJob(objectMeta)),
    containers: findContainers(spec as PodSpec, specPath, images),
  };
}

/** Every container of a pod, init and ephemeral ones included. */
export function containersOf(target: PodTarget): readonly ContainerTarget[] {
  return target.containers;
}

function findContainers(spec: PodSpec, specPath: Path, images: ImageParser): ContainerTarget[] {
  const found: ContainerTarget[] = [];
  for (const group of CONTAINER_GROUPS) {
    const list = spec[group];
    if (!Array.isArray(list)) continue;
    list.forEach((container, index) => {
      if (!asRecord(container)) return;
      const image = typeof container.image === "string" ? container.image : "";
      found.push({
        container,
        group,
        index,
        name: typeof container.name === "string" ? container.name : `#${index}`,
        image,
        imageRef: images(image),
        path: [...specPath, group, index],
      });
    });
  }
  return found;
}
