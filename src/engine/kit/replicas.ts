import type { KubeObject } from "../kube.js";
import { getAt } from "../paths.js";

/**
 * A workload's spec.replicas, an omitted or null value read as 1 like the
 * API server's default; undefined when the field holds something other
 * than a number, which no check should guess about.
 */
export function replicasOf(workload: KubeObject): number | undefined {
  const declared = getAt(workload, ["spec", "replicas"]) ?? 1;
  return typeof declared === "number" ? declared : undefined;
}
