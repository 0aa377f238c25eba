import {
  type CheckOutcome,
  type ClusterCheckDeclaration,
  describeResource,
} from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import type { CheckFacts } from "./facts.js";
import type { RulePass } from "./judge-object.js";
import { CLUSTER_BUCKET } from "./tally.js";
import type { AuditFinding, AuditResourceRef, ServerVersion } from "./types.js";

/** What the cluster checks made of the facts, ready to be tallied. */
export interface ClusterJudgement {
  /** Every check's outcomes, by check id, for the result's statuses. */
  outcomes: ReadonlyMap<string, CheckOutcome[]>;
  passes: { bucket: string; pass: RulePass }[];
  findings: { bucket: string; finding: AuditFinding }[];
}

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
 * The judge step for the cluster checks, once every object has been seen:
 * each check judges the facts it observed, over the audited namespaces.
 * Pure: nothing but the returned judgement comes out of it.
 */
export function judgeClusterChecks(
  checks: readonly LoadedClusterCheck[],
  facts: CheckFacts,
  namespaces: readonly string[],
  serverVersion: ServerVersion | undefined,
): ClusterJudgement {
  const outcomes = new Map<string, CheckOutcome[]>();
  const passes: ClusterJudgement["passes"] = [];
  const findings: ClusterJudgement["findings"] = [];
  for (const { module, declaration } of checks) {
    const observed = facts.get(module.id) ?? [];
    const judged = module.judge({ namespaces, observed, serverVersion }, declaration.parameters);
    outcomes.set(module.id, judged);
    for (const outcome of judged) {
      const bucket = bucketOf(declaration, outcome);
      if (outcome.status === "pass") {
        passes.push({
          bucket,
          pass: { id: declaration.id, source: "check", checklist: [declaration.checklist] },
        });
      } else if (outcome.status === "fail") {
        const finding = checkFinding(declaration, outcome.message, outcome.subject, outcome.path);
        findings.push({ bucket, finding });
      }
    }
  }
  return { outcomes, passes, findings };
}
