import { type ChecklistRef, isWorkloadKind, ran, selectorMatches } from "../engine/index.js";
import type { AuditRun } from "./audit-run.js";
import {
  AZURE_INTERNAL_LB,
  CHECKS,
  type ClusterCheck,
  dashboardEvidence,
  isInternalLoadBalancer,
  isLoadBalancer,
  replicasOf,
  templateLabelsOf,
} from "./cluster-checks.js";
import type { ObjectEvaluation } from "./evaluate-object.js";
import { bucketOf, type ListedObject } from "./listed-object.js";

/** Records one check on the object: a pass when `problem` is undefined, else a finding. */
type Judge = (check: ClusterCheck, problem: string | undefined, path?: string) => Promise<void>;

function sameItem(a: ChecklistRef | undefined, b: ChecklistRef): boolean {
  return a !== undefined && a.section === b.section && a.item === b.item;
}

/** Whether a policy of the check's checklist item already speaks for this object. */
function defersToPolicy(
  run: AuditRun,
  check: ClusterCheck,
  { results, findings }: ObjectEvaluation,
): boolean {
  return (
    (check.defer === "evaluated" &&
      results.some(
        (r) => ran(r) && sameItem(run.declarations.get(r.policy)?.checklist, check.checklist),
      )) ||
    (check.defer === "reported" && findings.some((f) => sameItem(f.checklist, check.checklist)))
  );
}

function judgeFor(run: AuditRun, listed: ListedObject, evaluation: ObjectEvaluation): Judge {
  return async (check, problem, path) => {
    if (defersToPolicy(run, check, evaluation)) return;
    const bucket = bucketOf(listed, check.scope);
    if (problem === undefined) run.passCheck(bucket, check);
    else await run.failCheck(bucket, check, problem, listed.ref, path);
  };
}

async function judgeDashboard(judge: Judge, { object }: ListedObject): Promise<void> {
  const evidence = dashboardEvidence(object);
  if (!evidence) return;
  await judge(
    CHECKS.dashboard,
    `${evidence}, so the Kubernetes dashboard looks installed; remove it and use the Azure portal or kubectl, which use each user's own credentials`,
  );
}

async function judgeDefaultNamespace(judge: Judge): Promise<void> {
  await judge(
    CHECKS.defaultNamespace,
    "runs in the default namespace; move it to a namespace of its own so quotas, network policies and RBAC can be scoped to it",
    "metadata.namespace",
  );
}

async function judgePublicLoadBalancer(judge: Judge, { object }: ListedObject): Promise<void> {
  await judge(
    CHECKS.publicLoadBalancer,
    isInternalLoadBalancer(object)
      ? undefined
      : `is a LoadBalancer without the annotation ${AZURE_INTERNAL_LB}: "true", so Azure gives it a public IP; add the annotation, or put the application behind an internal ingress`,
    `metadata.annotations["${AZURE_INTERNAL_LB}"]`,
  );
}

async function judgeDisruptionBudget(
  run: AuditRun,
  judge: Judge,
  { object, home }: ListedObject & { home: string },
): Promise<void> {
  const labels = templateLabelsOf(object);
  const covered = (run.facts.pdbs.get(home) ?? []).some((s) => selectorMatches(s, labels));
  await judge(
    CHECKS.disruptionBudget,
    covered
      ? undefined
      : `runs ${replicasOf(object)} replicas but no PodDisruptionBudget selects its pods, so a node drain may evict them all at once; add a PodDisruptionBudget whose selector matches spec.template.metadata.labels`,
  );
}

function needsDisruptionBudget(listed: ListedObject): listed is ListedObject & { home: string } {
  return (
    (listed.kind === "Deployment" || listed.kind === "StatefulSet") &&
    listed.home !== undefined &&
    !listed.exempt &&
    replicasOf(listed.object) > 1
  );
}

/**
 * The cluster-level checks that look at one object at a time: dashboard,
 * default namespace, public load balancer and disruption budget. Each
 * yields to a policy of the same checklist item (see ClusterCheck.defer).
 */
export async function judgeObjectChecks(
  run: AuditRun,
  listed: ListedObject,
  evaluation: ObjectEvaluation,
): Promise<void> {
  const judge = judgeFor(run, listed, evaluation);
  const { kind, owner, object } = listed;
  const topLevel = !owner || !isWorkloadKind(owner.kind);
  if (topLevel && (isWorkloadKind(kind) || kind === "Service")) {
    await judgeDashboard(judge, listed);
  }
  if (listed.home === "default" && topLevel && isWorkloadKind(kind)) {
    await judgeDefaultNamespace(judge);
  }
  if (kind === "Service" && isLoadBalancer(object)) await judgePublicLoadBalancer(judge, listed);
  if (needsDisruptionBudget(listed)) await judgeDisruptionBudget(run, judge, listed);
}
