import { z } from "zod";
import {
  asRecord,
  containersOf,
  definePolicy,
  type PatchOperation,
  type PodSpec,
  type PodTarget,
  toPointer,
} from "../../src/engine/index.js";
import { addIfAbsent } from "../../src/engine/kit/index.js";

/**
 * The name the API server's ServiceAccount admission plugin gives the volume
 * it injects into a Pod: `kube-api-access-<random suffix>`.
 */
const INJECTED_VOLUME_PREFIX = "kube-api-access-";

/**
 * The ServiceAccount the pod runs as. `serviceAccountName` wins; the
 * deprecated `serviceAccount` is read when it is unset or empty, as the API
 * server does; with neither, the namespace's `default`.
 */
function serviceAccountOf(spec: PodSpec): string {
  const deprecated = (spec as { serviceAccount?: unknown }).serviceAccount;
  for (const name of [spec.serviceAccountName, deprecated]) {
    if (typeof name === "string" && name !== "") return name;
  }
  return "default";
}

/**
 * The token volume the ServiceAccount admission plugin added: its name prefix
 * alone would also match a volume the author named that way, so it must also
 * project a service account token.
 */
function injectedVolumeName(volume: unknown): string | undefined {
  const record = asRecord(volume);
  const name = record?.name;
  if (typeof name !== "string" || !name.startsWith(INJECTED_VOLUME_PREFIX)) return undefined;
  const sources = asRecord(record?.projected)?.sources;
  if (!Array.isArray(sources)) return undefined;
  return sources.some((source) => asRecord(asRecord(source)?.serviceAccountToken))
    ? name
    : undefined;
}

/**
 * Removes the injected token volume of a Pod and every volumeMount that uses
 * it. Each array is emptied from its highest index down, so every operation
 * is valid once the earlier ones have been applied.
 */
function removeInjectedToken(pod: PodTarget): PatchOperation[] {
  const volumes = pod.spec.volumes;
  if (!Array.isArray(volumes)) return [];
  const injected = new Map<number, string>();
  volumes.forEach((volume, index) => {
    const name = injectedVolumeName(volume);
    if (name !== undefined) injected.set(index, name);
  });
  if (injected.size === 0) return [];
  const names = new Set(injected.values());

  const ops: PatchOperation[] = [];
  for (const c of containersOf(pod)) {
    const mounts = (c.container as { volumeMounts?: unknown }).volumeMounts;
    if (!Array.isArray(mounts)) continue;
    for (let i = mounts.length - 1; i >= 0; i--) {
      const name = asRecord(mounts[i])?.name;
      if (typeof name === "string" && names.has(name)) {
        ops.push({ op: "remove", path: toPointer([...c.path, "volumeMounts", i]) });
      }
    }
  }
  for (const index of [...injected.keys()].sort((a, b) => b - a)) {
    ops.push({ op: "remove", path: toPointer([...pod.specPath, "volumes", index]) });
  }
  return ops;
}

export default definePolicy({
  id: "service-account-token",
  scope: "pod",
  parameters: z
    .object({
      /**
       * Only pods of the namespace's `default` ServiceAccount. A pod that names
       * its own ServiceAccount was given one on purpose, often one that sets
       * automountServiceAccountToken: true, which a pod-level false overrides.
       */
      onlyDefaultServiceAccount: z.boolean(),
    })
    .strict(),
  mutate(pod, params) {
    if (params.onlyDefaultServiceAccount && serviceAccountOf(pod.spec) !== "default") return [];
    const set = addIfAbsent(pod.object, [...pod.specPath, "automountServiceAccountToken"], false);
    // A value the author wrote, even false next to a token volume, is theirs:
    // the ServiceAccount plugin injects nothing into a pod that says false.
    if (set.length === 0) return [];
    // The plugin ran before the mutating webhooks, and the field it obeyed
    // does not unmount what it added: a Pod must lose the volume explicitly.
    // Pod templates get no injected volume; their pods are created with false.
    return pod.resource.kind === "Pod" ? [...set, ...removeInjectedToken(pod)] : set;
  },
});
