import { controllerOf, type KubeObject } from "../engine/index.js";
import type { AuditRun } from "./audit-run.js";
import type { ObjectEvaluation } from "./evaluate-object.js";
import { recordFacts } from "./facts.js";
import type { KindInfo } from "./kinds.js";
import { bucketOf, type ListedObject } from "./listed-object.js";
import { refOf } from "./resource-ref.js";
import type { KindCounts } from "./tally.js";

function isTerminatingNamespace(object: KubeObject, info: KindInfo): boolean {
  return (
    info.kind === "Namespace" && (object.status as { phase?: unknown })?.phase === "Terminating"
  );
}

/**
 * Places the object in its namespace, noting that namespace as audited or
 * exempt; or returns undefined when the namespace is being deleted, so the
 * object is skipped.
 */
function placeObject(
  run: AuditRun,
  object: KubeObject,
  info: KindInfo,
  counts: KindCounts,
): ListedObject | undefined {
  const ref = refOf(object, info);
  const home = info.kind === "Namespace" ? ref.name : ref.namespace;
  if (isTerminatingNamespace(object, info)) run.deleting.add(ref.name);
  if (home !== undefined && run.deleting.has(home)) {
    counts.deleting++;
    return undefined;
  }
  const exempt = home !== undefined && run.isExempt(home);
  if (home !== undefined) (exempt ? run.exemptSeen : run.audited).add(home);
  return { object, kind: info.kind, ref, home, exempt, owner: controllerOf(object) };
}

/**
 * Counts the engine's passes and findings on one object. Only policies that
 * ran and passed count as passes: a skipped one (a Job for a long-running
 * check) says nothing about the object.
 */
async function tallyEvaluation(
  run: AuditRun,
  listed: ListedObject,
  { results, findings }: ObjectEvaluation,
): Promise<void> {
  const bucket = bucketOf(listed, "namespace");
  for (const { policy: id, status } of results) {
    const declaration = run.declarations.get(id);
    if (declaration && status === "pass") {
      run.tally.pass(bucket, { id, source: "policy" }, declaration.checklist);
    }
  }
  if (findings.some((f) => f.action === "deny")) run.tally.deniedObjects++;
  for (const f of findings) await run.emit(bucket, f);
}

/**
 * Runs the engine on the object, as on an admission CREATE, unless no
 * policy matches its kind, it is exempt, or it is owned by an object of an
 * evaluated kind, whose findings stand for it.
 */
async function evaluatePolicies(
  run: AuditRun,
  listed: ListedObject,
  counts: KindCounts,
): Promise<ObjectEvaluation> {
  const skipped: ObjectEvaluation = { results: [], findings: [] };
  if (!run.plan.evaluate.has(listed.kind)) return skipped;
  if (listed.exempt) {
    counts.exempt++;
    return skipped;
  }
  if (listed.owner && run.plan.evaluate.has(listed.owner.kind)) {
    counts.coveredByOwner++;
    return skipped;
  }
  counts.evaluated++;
  const evaluation = run.evaluator.evaluate(listed.object, listed.ref);
  await tallyEvaluation(run, listed, evaluation);
  return evaluation;
}

/** Audits one listed object: its facts for the cluster checks, then the policies. */
export async function auditObject(run: AuditRun, object: KubeObject, info: KindInfo) {
  const counts = run.tally.kind(info.kind);
  counts.listed++;
  const listed = placeObject(run, object, info, counts);
  if (!listed) return;
  if (listed.home !== undefined && !listed.exempt) {
    recordFacts(run.facts, run.observers, { ...listed, home: listed.home });
  }
  await evaluatePolicies(run, listed, counts);
}
