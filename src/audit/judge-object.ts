import type { ChecklistRef } from "../engine/index.js";
import { type CheckFact, factsOf } from "./facts.js";
import { bucketOf, type ListedObject } from "./listed-object.js";
import type { AuditPlan } from "./plan.js";
import { itemKey } from "./reach.js";
import type { KindCounts } from "./tally.js";
import type { AuditFinding } from "./types.js";

/** What happened to a listed object, as the per-kind counts tell it. */
export type Disposition = Exclude<keyof KindCounts, "listed"> | "not-evaluated";

/** A policy that ran on the object and found nothing, and the checklist items it judged. */
export interface RulePass {
  id: string;
  source: "policy" | "check";
  checklist: readonly ChecklistRef[];
}

/** Everything the audit makes of one listed object. */
export interface ObjectJudgement {
  disposition: Disposition;
  /** The tally bucket of the object's findings and passes. */
  bucket: string;
  /** What the object tells the cluster checks (nothing for exempt or deleted namespaces). */
  facts: readonly CheckFact[];
  passes: readonly RulePass[];
  findings: readonly AuditFinding[];
  /**
   * Items a failed policy judged and found nothing about: the parts of a
   * policy of several items that passed (probes' readiness when only the
   * liveness probe is missing). They count as checked, not as passes.
   */
  judged: readonly ChecklistRef[];
  /** Whether admission would reject the object. */
  denied: boolean;
}

const NOTHING = { facts: [], passes: [], findings: [], judged: [], denied: false } as const;

/**
 * The judge step for one object: its facts for the cluster checks, then the
 * policies, run as on an admission CREATE in enforce mode unless no policy
 * matches its kind, it is exempt, or it is owned by an object of an
 * evaluated kind, whose findings stand for it. Pure: the same plan and
 * object give the same judgement. Only policies that ran and passed count as
 * passes: a skipped one (a Job for a long-running check) says nothing.
 */
export function judgeObject(plan: AuditPlan, listed: ListedObject): ObjectJudgement {
  const bucket = bucketOf(listed, "namespace");
  if (listed.deleting) return { ...NOTHING, disposition: "deleting", bucket };
  const facts =
    listed.home !== undefined && !listed.exempt ? factsOf(plan.observers, listed, listed.home) : [];
  const { evaluate } = plan.listing;
  const skip = (disposition: Disposition) => ({ ...NOTHING, facts, disposition, bucket });
  if (!evaluate.has(listed.kind)) return skip("not-evaluated");
  if (listed.exempt) return skip("exempt");
  if (listed.owner && evaluate.has(listed.owner.kind)) return skip("coveredByOwner");
  const { results, findings } = plan.evaluator.evaluate(listed.object, listed.ref);
  const passes: RulePass[] = [];
  const judged: ChecklistRef[] = [];
  for (const { policy: id, status } of results) {
    const items = plan.items.get(id);
    if (!items) continue;
    if (status === "pass") passes.push({ id, source: "policy", checklist: items });
    else if (status === "fail" && items.length > 1) {
      const found = new Set(
        findings.filter((f) => f.policy === id).map((f) => itemKey(f.checklist)),
      );
      for (const item of items) if (!found.has(itemKey(item))) judged.push(item);
    }
  }
  return {
    disposition: "evaluated",
    bucket,
    facts,
    passes,
    findings,
    judged,
    denied: findings.some((f) => f.action === "deny" && f.result !== "skip"),
  };
}
