import type { AuditRun } from "./audit-run.js";
import { CHECKS, type ClusterCheck, judgeVersion, type VersionVerdict } from "./cluster-checks.js";
import { CLUSTER_BUCKET } from "./tally.js";
import type { AuditResourceRef, ServerVersion } from "./types.js";

/** Each hygiene check, whether the namespace passes it, and what to say when it does not. */
function hygieneOf(run: AuditRun, namespace: string): [ClusterCheck, boolean, string][] {
  const { facts } = run;
  return [
    [
      CHECKS.resourceQuota,
      facts.quota.has(namespace),
      "has no ResourceQuota, so one team can use up the cluster's CPU, memory or object counts; add a ResourceQuota sized for the namespace",
    ],
    [
      CHECKS.limitRange,
      facts.limitRange.has(namespace),
      "has no LimitRange, so containers that set no requests or limits get none; add a LimitRange with default requests and limits",
    ],
    [
      CHECKS.defaultDeny,
      facts.defaultDeny.has(namespace),
      "has no default-deny NetworkPolicy, so every pod accepts traffic from anywhere in the cluster; add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress] and no ingress rules, then allow what each application needs",
    ],
  ];
}

/**
 * The per-namespace hygiene checks, over the facts the listing collected;
 * they can only run once every namespace's objects have been seen.
 */
export async function judgeNamespaceHygiene(run: AuditRun): Promise<void> {
  for (const namespace of [...run.audited].sort()) {
    const ref: AuditResourceRef = { apiVersion: "v1", kind: "Namespace", name: namespace };
    for (const [check, ok, problem] of hygieneOf(run, namespace)) {
      if (ok) run.passCheck(namespace, check);
      else await run.failCheck(namespace, check, problem, ref);
    }
  }
}

/** The version check; an unreadable version is "unknown", neither pass nor finding. */
export async function judgeServerVersion(
  run: AuditRun,
  serverVersion: ServerVersion | undefined,
): Promise<VersionVerdict> {
  const version = judgeVersion(serverVersion);
  if (version.status === "pass") run.passCheck(CLUSTER_BUCKET, CHECKS.version);
  else if (version.status === "fail") {
    await run.failCheck(CLUSTER_BUCKET, CHECKS.version, version.message, undefined);
  }
  return version;
}
