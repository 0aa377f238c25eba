import type { CheckOutcome } from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import type { AuditRun } from "./audit-run.js";
import { CLUSTER_BUCKET } from "./tally.js";
import type { ServerVersion } from "./types.js";

/** The tally bucket of an outcome: its namespace, or the cluster's. */
function bucketOf(check: LoadedClusterCheck, outcome: CheckOutcome): string {
  if (check.declaration.scope === "cluster" || outcome.status === "unknown") return CLUSTER_BUCKET;
  const subject = outcome.subject;
  if (!subject) return CLUSTER_BUCKET;
  return subject.kind === "Namespace" ? subject.name : (subject.namespace ?? CLUSTER_BUCKET);
}

/**
 * Judges every cluster check over the facts the listing collected (they can
 * only run once every namespace's objects have been seen) and tallies each
 * outcome. Returns the outcomes by check id, for the result's statuses.
 */
export async function judgeClusterChecks(
  run: AuditRun,
  serverVersion: ServerVersion | undefined,
): Promise<Map<string, CheckOutcome[]>> {
  const namespaces = [...run.audited].sort();
  const all = new Map<string, CheckOutcome[]>();
  for (const check of run.clusterChecks) {
    const { module, declaration } = check;
    const observed = run.facts.get(module.id) ?? [];
    const outcomes = module.judge({ namespaces, observed, serverVersion }, declaration.parameters);
    all.set(module.id, outcomes);
    for (const outcome of outcomes) {
      const bucket = bucketOf(check, outcome);
      if (outcome.status === "pass") run.passCheck(bucket, declaration);
      else if (outcome.status === "fail") {
        await run.failCheck(bucket, declaration, outcome.message, outcome.subject, outcome.path);
      }
    }
  }
  return all;
}
