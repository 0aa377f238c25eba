import type { PolicySet } from "../engine/index.js";
import {
  DEFAULT_REPORT_API,
  REPORT_FORMATS,
  REPORT_PLURALS,
  type ReportApiName,
} from "./reports.js";

/** A kind the audit knows how to list, with what RBAC needs to say about it. */
export interface KindInfo {
  kind: string;
  apiVersion: string;
  /** Lower-case plural, as in RBAC rules and URLs. */
  resource: string;
  namespaced: boolean;
}

const info = (kind: string, apiVersion: string, resource: string, namespaced = true): KindInfo => ({
  kind,
  apiVersion,
  resource,
  namespaced,
});

/**
 * Every kind the audit can list, in listing order. The order matters: the
 * facts cluster checks need (namespaces, quotas, limit ranges, network
 * policies, disruption budgets) are collected before the workloads that are
 * checked against them, so nothing but those small facts is ever kept.
 */
export const AUDIT_KINDS: readonly KindInfo[] = [
  info("Namespace", "v1", "namespaces", false),
  info("ResourceQuota", "v1", "resourcequotas"),
  info("LimitRange", "v1", "limitranges"),
  info("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies"),
  info("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
  info("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers"),
  info("ServiceAccount", "v1", "serviceaccounts"),
  info("ConfigMap", "v1", "configmaps"),
  info("Deployment", "apps/v1", "deployments"),
  info("StatefulSet", "apps/v1", "statefulsets"),
  info("DaemonSet", "apps/v1", "daemonsets"),
  info("ReplicaSet", "apps/v1", "replicasets"),
  info("ReplicationController", "v1", "replicationcontrollers"),
  info("CronJob", "batch/v1", "cronjobs"),
  info("Job", "batch/v1", "jobs"),
  info("Pod", "v1", "pods"),
  info("Service", "v1", "services"),
  info("Ingress", "networking.k8s.io/v1", "ingresses"),
  // Read before the others, and only to honour them as admission does
  // (src/audit/exceptions.ts); never judged.
  info("PolicyException", "tollgate.dev/v1alpha1", "policyexceptions"),
];

export const KIND_INFO: ReadonlyMap<string, KindInfo> = new Map(
  AUDIT_KINDS.map((k) => [k.kind, k]),
);

/** Kinds the cluster-level checks read, whatever the policy set matches. */
export const CHECK_KINDS: readonly string[] = [
  "Namespace",
  "ResourceQuota",
  "LimitRange",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "CronJob",
  "Job",
  "Pod",
  "Service",
];

/**
 * What a policy matching `*` is run against. ConfigMaps and Secrets are left
 * out on purpose: listing every one of them cluster-wide is heavy, and an
 * auditor should not need to read Secrets. Name them in `match.kinds` to
 * audit ConfigMaps; Secrets are never listed.
 */
export const WILDCARD_KINDS: readonly string[] = [
  "Namespace",
  "ResourceQuota",
  "LimitRange",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "HorizontalPodAutoscaler",
  "ServiceAccount",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "CronJob",
  "Job",
  "Pod",
  "Service",
  "Ingress",
];

export interface ListPlan {
  /** Kinds to list, in AUDIT_KINDS order. */
  list: KindInfo[];
  /** Kinds whose objects go through the engine. */
  evaluate: ReadonlySet<string>;
  /** Kinds some policy matches that the audit cannot list, with the policies. */
  unsupported: { kind: string; policies: string[] }[];
}

/**
 * Which kinds to list: every kind the policy set matches (its `match.kinds`,
 * with `*` read as WILDCARD_KINDS) plus what the cluster checks need,
 * restricted to what the source can list.
 */
export function planListing(set: PolicySet, listable: readonly string[]): ListPlan {
  const canList = new Set(listable);
  const matched = new Map<string, string[]>();
  for (const policy of set.policies) {
    for (const kind of policy.kinds) {
      const kinds = kind === "*" ? WILDCARD_KINDS : [kind];
      for (const k of kinds) {
        const ids = matched.get(k) ?? [];
        ids.push(policy.declaration.id);
        matched.set(k, ids);
      }
    }
  }
  const evaluate = new Set<string>();
  const unsupported: ListPlan["unsupported"] = [];
  for (const [kind, policies] of matched) {
    if (KIND_INFO.has(kind) && canList.has(kind)) evaluate.add(kind);
    else unsupported.push({ kind, policies: [...new Set(policies)].sort() });
  }
  const wanted = new Set([...evaluate, ...CHECK_KINDS.filter((k) => canList.has(k))]);
  return {
    list: AUDIT_KINDS.filter((k) => wanted.has(k.kind)),
    evaluate,
    unsupported: unsupported.sort((a, b) => a.kind.localeCompare(b.kind)),
  };
}

/** `deployments.apps`, `pods`: how RBAC and API errors name a resource. */
export function qualifiedResource(kind: KindInfo): string {
  const slash = kind.apiVersion.indexOf("/");
  return slash >= 0 ? `${kind.resource}.${kind.apiVersion.slice(0, slash)}` : kind.resource;
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The RBAC rules an audit of the whole cluster needs: list on every kind it
 * may read (ConfigMaps only matter when a policy names them), get on
 * namespaces for --namespace, and read/write on the reports when it writes
 * them. /version is readable by every authenticated identity already.
 */
export function auditRbacRules(options: {
  writeReports: boolean;
  /** The report API written; wgpolicyk8s.io when absent. */
  reportApi?: ReportApiName | undefined;
}): RbacRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const kind of AUDIT_KINDS) {
    if (kind.kind === "ConfigMap") continue;
    const slash = kind.apiVersion.indexOf("/");
    const group = slash >= 0 ? kind.apiVersion.slice(0, slash) : "";
    const resources = byGroup.get(group) ?? new Set<string>();
    resources.add(kind.resource);
    byGroup.set(group, resources);
  }
  const rules: RbacRule[] = [...byGroup].map(([group, resources]) => ({
    apiGroups: [group],
    resources: [...resources].sort(),
    verbs:
      group === "" && resources.has("namespaces") ? ["get", "list", "watch"] : ["list", "watch"],
  }));
  if (options.writeReports) {
    const format = REPORT_FORMATS[options.reportApi ?? DEFAULT_REPORT_API];
    rules.push({
      apiGroups: [format.group],
      resources: [REPORT_PLURALS[format.namespacedKind], REPORT_PLURALS[format.clusterKind]],
      verbs: ["get", "list", "create", "update", "delete"],
    });
  }
  return rules;
}
