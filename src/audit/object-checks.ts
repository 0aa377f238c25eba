import { type ChecklistRef, isWorkloadKind, ran, type Severity } from "../engine/index.js";
import type { AuditRun } from "./audit-run.js";
import type { ObjectEvaluation } from "./evaluate-object.js";
import {
  AZURE_INTERNAL_LB,
  dashboardEvidence,
  isInternalLoadBalancer,
  isLoadBalancer,
} from "./evidence.js";
import { bucketOf, type ListedObject } from "./listed-object.js";

/** What a finding of a check names: its declaration, less what only some checks have. */
export interface CheckInfo {
  id: string;
  title: string;
  checklist: ChecklistRef;
  severity: Severity;
  /** `cluster` findings go to the ClusterPolicyReport, `namespace` ones to their namespace. */
  scope: "namespace" | "cluster";
}

/**
 * The checks the audit makes on one object at a time that no policy makes
 * in the same way (the declared cluster checks, which need several
 * objects, are in policies/cluster/).
 */
export interface ObjectCheck extends CheckInfo {
  /**
   * How the check yields to a policy of the same checklist item on the same
   * object, so that one problem is reported once: `evaluated` skips objects
   * such a policy evaluated (the policy, with its parameters, is the
   * authority), `reported` skips only objects it reported (the check looks
   * at evidence the policy does not), `never` for checks no policy can make.
   */
  defer: "never" | "evaluated" | "reported";
}

const check = (
  id: string,
  title: string,
  section: string,
  item: string,
  severity: Severity,
  scope: ObjectCheck["scope"],
  defer: ObjectCheck["defer"],
): ObjectCheck => ({ id, title, checklist: { section, item }, severity, scope, defer });

export const OBJECT_CHECKS = {
  dashboard: check(
    "kubernetes-dashboard",
    "The Kubernetes dashboard is not installed",
    "Cluster Setup",
    "Check if you need the Kubernetes dashboard",
    "high",
    "cluster",
    "reported",
  ),
  defaultNamespace: check(
    "default-namespace-workloads",
    "No workloads run in the default namespace",
    "Operations",
    "Don't use the default namespace",
    "medium",
    "namespace",
    "evaluated",
  ),
  publicLoadBalancer: check(
    "public-load-balancer",
    "LoadBalancer Services are internal",
    "Network",
    "Don't expose your load-balancer on Internet if not necessary",
    "high",
    "namespace",
    "evaluated",
  ),
} as const satisfies Record<string, ObjectCheck>;

/** Records one check on the object: a pass when `problem` is undefined, else a finding. */
type Judge = (check: ObjectCheck, problem: string | undefined, path?: string) => Promise<void>;

function sameItem(a: ChecklistRef | undefined, b: ChecklistRef): boolean {
  return a !== undefined && a.section === b.section && a.item === b.item;
}

/** Whether a policy of the check's checklist item already speaks for this object. */
function defersToPolicy(
  run: AuditRun,
  check: ObjectCheck,
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
    OBJECT_CHECKS.dashboard,
    `${evidence}, so the Kubernetes dashboard looks installed; remove it and use the Azure portal or kubectl, which use each user's own credentials`,
  );
}

async function judgeDefaultNamespace(judge: Judge): Promise<void> {
  await judge(
    OBJECT_CHECKS.defaultNamespace,
    "runs in the default namespace; move it to a namespace of its own so quotas, network policies and RBAC can be scoped to it",
    "metadata.namespace",
  );
}

async function judgePublicLoadBalancer(judge: Judge, { object }: ListedObject): Promise<void> {
  await judge(
    OBJECT_CHECKS.publicLoadBalancer,
    isInternalLoadBalancer(object)
      ? undefined
      : `is a LoadBalancer without the annotation ${AZURE_INTERNAL_LB}: "true", so Azure gives it a public IP; add the annotation, or put the application behind an internal ingress`,
    `metadata.annotations["${AZURE_INTERNAL_LB}"]`,
  );
}

/**
 * The audit's checks that look at one object at a time: dashboard, default
 * namespace and public load balancer. Each yields to a policy of the same
 * checklist item (see ObjectCheck.defer).
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
}
