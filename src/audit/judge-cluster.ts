import {
  type CheckOutcome,
  type ClusterCheckDeclaration,
  describeResource,
  type Observation,
} from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import type { RulePass } from "./judge-object.js";
import { CLUSTER_BUCKET } from "./tally.js";
import type { AuditFinding, AuditResourceRef, ServerVersion } from "./types.js";

/** What one outcome of a cluster check adds to the tally: a pass or a finding, in its bucket. */
export type ClusterResult =
  | { bucket: string; pass: RulePass; finding?: undefined }
  | { bucket: string; finding: AuditFinding; pass?: undefined };

/** The tally bucket of an outcome: its namespace, or the cluster's. */
function bucketOf(check: ClusterCheckDeclaration, outcome: CheckOutcome): string {
  if (check.scope === "cluster" || outcome.status === "unknown") return CLUSTER_BUCKET;
  const subject = outcome.subject;
  if (!subject) return CLUSTER_BUCKET;
  return subject.kind === "Namespace" ? subject.name : (subject.namespace ?? CLUSTER_BUCKET);
}

function checkFinding(
  check: ClusterCheckDeclaration,
  message: string,
  resource: AuditResourceRef | undefined,
  path: string | undefined,
): AuditFinding {
  return {
    source: "check",
    policy: check.id,
    title: check.title,
    checklist: check.checklist,
    severity: check.severity,
    action: "report",
    result: "fail",
    message: resource ? `${describeResource(resource)}: ${message}` : message,
    resource,
    path,
    scope: check.scope,
  };
}

/**
 * The judge step for one cluster check, once every object has been seen: it
 * judges the facts it observed, over the audited namespaces. Pure; the
 * outcomes are turned into passes and findings one at a time by
 * `clusterResultOf`, so a check with thousands of subjects never has all its
 * findings built at once.
 */
export function judgeClusterCheck(
  { module, declaration }: LoadedClusterCheck,
  observed: readonly Observation<unknown>[],
  namespaces: readonly string[],
  serverVersion: ServerVersion | undefined,
): CheckOutcome[] {
  return module.judge({ namespaces, observed, serverVersion }, declaration.parameters);
}

/** What an outcome adds to the tally; nothing for `unknown`, which the check's status says. */
export function clusterResultOf(
  declaration: ClusterCheckDeclaration,
  outcome: CheckOutcome,
): ClusterResult | undefined {
  const bucket = bucketOf(declaration, outcome);
  if (outcome.status === "pass") {
    return {
      bucket,
      pass: { id: declaration.id, source: "check", checklist: [declaration.checklist] },
    };
  }
  if (outcome.status === "fail") {
    return {
      bucket,
      finding: checkFinding(declaration, outcome.message, outcome.subject, outcome.path),
    };
  }
  return undefined;
}
