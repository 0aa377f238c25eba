// The benchmark's inputs: the four engine fixtures and the AdmissionReview
// cases derived from them (fixtures/cases.yaml).
import { readFileSync } from "node:fs";
import jsonpatch from "fast-json-patch";
import { parse as parseYaml } from "yaml";
import type { KubeObject } from "../../../src/engine/index.js";

export const FIXTURES_DIR = new URL("../fixtures/", import.meta.url);

/** The objects the engine benchmark evaluates; `deployment-3` is the headline. */
export const ENGINE_FIXTURES = [
  { id: "pod-1", file: "pod-1.yaml", label: "Pod, 1 container" },
  { id: "deployment-3", file: "deployment-3.yaml", label: "Deployment, 3 containers + 1 init" },
  { id: "cronjob", file: "cronjob.yaml", label: "CronJob, 1 container" },
  { id: "pod-50", file: "pod-50.yaml", label: "Pod, 50 containers" },
] as const;

export type EngineFixtureId = (typeof ENGINE_FIXTURES)[number]["id"];
export const HEADLINE_FIXTURE: EngineFixtureId = "deployment-3";

export type Expectation = "allowed" | "denied" | "patched";

export interface BenchCase {
  name: string;
  base: string;
  /** The Tollgate endpoint of the headline run. */
  endpoint: "validate" | "mutate";
  expect: Expectation;
  /** False: verdict-checked, but not part of the load mix. */
  load: boolean;
  object: KubeObject;
}

export function loadObject(file: string): KubeObject {
  const text = readFileSync(new URL(file, FIXTURES_DIR), "utf8");
  const value = parseYaml(text) as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`test/bench/fixtures/${file}: expected one Kubernetes object`);
  }
  return value as KubeObject;
}

function fail(index: number, problem: string): never {
  throw new Error(`test/bench/fixtures/cases.yaml: case ${index}: ${problem}`);
}

/** Reads cases.yaml and builds every case's object; fails naming the case and field. */
export function loadCases(): BenchCase[] {
  const raw = parseYaml(readFileSync(new URL("cases.yaml", FIXTURES_DIR), "utf8")) as unknown;
  if (!Array.isArray(raw)) throw new Error("test/bench/fixtures/cases.yaml: expected a list");
  const names = new Set<string>();
  return raw.map((entry: Record<string, unknown>, index): BenchCase => {
    const { name, base, endpoint, expect, load, patch } = entry;
    if (typeof name !== "string" || names.has(name)) fail(index, "name must be a unique string");
    names.add(name);
    if (typeof base !== "string") fail(index, "base must name a fixture file");
    if (endpoint !== "validate" && endpoint !== "mutate") fail(index, "endpoint: validate|mutate");
    if (expect !== "allowed" && expect !== "denied" && expect !== "patched") {
      fail(index, "expect: allowed|denied|patched");
    }
    if (load !== undefined && typeof load !== "boolean") fail(index, "load must be a boolean");
    const object = structuredClone(loadObject(base));
    if (patch !== undefined) {
      if (!Array.isArray(patch)) fail(index, "patch must be a list of RFC 6902 operations");
      try {
        jsonpatch.applyPatch(object, patch as jsonpatch.Operation[], true, true);
      } catch (error) {
        fail(index, `patch does not apply to ${base}: ${(error as Error).message}`);
      }
    }
    return { name, base, endpoint, expect, load: load ?? true, object };
  });
}

const RESOURCES: Record<string, { group: string; resource: string }> = {
  Pod: { group: "", resource: "pods" },
  Deployment: { group: "apps", resource: "deployments" },
  StatefulSet: { group: "apps", resource: "statefulsets" },
  DaemonSet: { group: "apps", resource: "daemonsets" },
  ReplicaSet: { group: "apps", resource: "replicasets" },
  Job: { group: "batch", resource: "jobs" },
  CronJob: { group: "batch", resource: "cronjobs" },
};

/** The admission.k8s.io/v1 AdmissionReview an API server sends for creating `object`. */
export function admissionReview(object: KubeObject, uid: string): Record<string, unknown> {
  const kind = object.kind ?? "";
  const apiVersion = object.apiVersion ?? "v1";
  const version = apiVersion.includes("/")
    ? apiVersion.slice(apiVersion.indexOf("/") + 1)
    : apiVersion;
  const known = RESOURCES[kind];
  if (!known) throw new Error(`no resource name known for kind ${kind}`);
  const gvk = { group: known.group, version, kind };
  const gvr = { group: known.group, version, resource: known.resource };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation: "CREATE",
      userInfo: {
        username: "system:serviceaccount:argocd:argocd-application-controller",
        uid: "3f2b7c1e-0d4a-4b8e-9a51-6c2d8e9f0a17",
        groups: ["system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: {
        apiVersion: "meta.k8s.io/v1",
        kind: "CreateOptions",
        fieldManager: "argocd-controller",
      },
    },
  };
}

/** A fixed, readable UID per case, so responses can be matched to requests. */
export function uidOf(name: string): string {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  const hex = hash.toString(16).padStart(8, "0");
  return `${hex}-0000-4000-8000-${hex}${hex.slice(0, 4)}`;
}
