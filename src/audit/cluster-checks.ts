import {
  type ChecklistRef,
  isWorkloadKind,
  type KubeObject,
  type Severity,
  selectsEveryPod,
} from "../engine/index.js";
import { parseImage } from "../engine/kit/index.js";
import type { ServerVersion } from "./types.js";

/**
 * The newest Kubernetes minor version the bundled @kubernetes/client-node
 * knows: its generated models say "OpenAPI spec version: v1.34.0" (client
 * 1.4). test/audit/cluster-checks.test.ts reads that header from
 * node_modules and fails when the library moves on, so this stays in step.
 */
export const NEWEST_KNOWN_VERSION = { major: 1, minor: 34 } as const;

/** AKS supports the newest minor and the two before it (N-2). */
export const SUPPORTED_MINOR_VERSIONS = 3;

/** The annotation that keeps an Azure load balancer on the virtual network. */
export const AZURE_INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal";

export interface ClusterCheck {
  id: string;
  title: string;
  checklist: ChecklistRef;
  severity: Severity;
  /** `cluster` findings go to the ClusterPolicyReport, `namespace` ones to their namespace. */
  scope: "namespace" | "cluster";
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
  scope: ClusterCheck["scope"],
  defer: ClusterCheck["defer"],
): ClusterCheck => ({ id, title, checklist: { section, item }, severity, scope, defer });

export const CHECKS = {
  resourceQuota: check(
    "namespace-resource-quota",
    "Namespaces have a ResourceQuota",
    "Resource Management",
    "Enforce resource quotas",
    "medium",
    "namespace",
    "never",
  ),
  limitRange: check(
    "namespace-limit-range",
    "Namespaces have a LimitRange",
    "Resource Management",
    "Namespaces should have LimitRange",
    "medium",
    "namespace",
    "never",
  ),
  defaultDeny: check(
    "namespace-default-deny",
    "Namespaces have a default-deny ingress NetworkPolicy",
    "Network",
    "Configure default network policies in each namespace",
    "medium",
    "namespace",
    "never",
  ),
  disruptionBudget: check(
    "pod-disruption-budget",
    "Replicated workloads have a PodDisruptionBudget",
    "Resource Management",
    "Configure pod disruption budgets",
    "medium",
    "namespace",
    "never",
  ),
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
  version: check(
    "kubernetes-version",
    "Kubernetes is at most two minor versions behind",
    "Operations",
    "Maintain kubernetes version up to date",
    "high",
    "cluster",
    "never",
  ),
} as const satisfies Record<string, ClusterCheck>;

export const CLUSTER_CHECKS: readonly ClusterCheck[] = Object.values(CHECKS);

// ---------------------------------------------------------------------------
// Small readers over loosely typed objects.

type Rec = Record<string, unknown>;

function rec(value: unknown): Rec | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Rec)
    : undefined;
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(value) ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The controller that owns an object (ownerReference with controller: true). */
export function controllerOf(object: KubeObject): { kind: string; name: string } | undefined {
  for (const ref of list(object.metadata?.ownerReferences)) {
    const r = rec(ref);
    if (r?.controller === true && typeof r.kind === "string") {
      return { kind: r.kind, name: typeof r.name === "string" ? r.name : "" };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Network policies.

/**
 * A default-deny ingress policy: it selects every pod of its namespace
 * (empty podSelector), its policyTypes include Ingress (an omitted
 * policyTypes always includes Ingress) and it has no ingress rules, so no
 * traffic is allowed in unless another policy allows it. A rule `{}` allows
 * everything, so any rule at all disqualifies the policy. Egress is not
 * required here: egress lockdown is a separate checklist item.
 */
export function isDefaultDenyIngress(policy: KubeObject): boolean {
  const spec = rec(policy.spec);
  if (!spec || !selectsEveryPod(spec.podSelector)) return false;
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : ["Ingress"];
  if (!types.includes("Ingress")) return false;
  return list(spec.ingress).length === 0;
}

// ---------------------------------------------------------------------------
// Workloads.

/** spec.replicas, counting an omitted value as 1 like the API server's default. */
export function replicasOf(workload: KubeObject): number {
  const replicas = rec(workload.spec)?.replicas;
  return typeof replicas === "number" ? replicas : 1;
}

export function templateLabelsOf(workload: KubeObject): Record<string, string> {
  return strings(rec(rec(rec(workload.spec)?.template)?.metadata)?.labels);
}

/** Every container image of a workload or pod, init and ephemeral ones included. */
export function imagesOf(object: KubeObject): string[] {
  const spec = rec(object.spec);
  let podSpec: Rec | undefined;
  if (object.kind === "Pod") podSpec = spec;
  else if (object.kind === "CronJob") {
    podSpec = rec(rec(rec(rec(spec?.jobTemplate)?.spec)?.template)?.spec);
  } else podSpec = rec(rec(spec?.template)?.spec);
  const images: string[] = [];
  for (const group of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of list(podSpec?.[group])) {
      const image = rec(c)?.image;
      if (typeof image === "string") images.push(image);
    }
  }
  return images;
}

const DASHBOARD = "kubernetes-dashboard";

/** Repositories of the dashboard and its helper images, wherever they are mirrored. */
export function isDashboardImage(image: string): boolean {
  const ref = parseImage(image);
  if (!ref) return false;
  const parts = ref.repository.toLowerCase().split("/");
  const last = parts.at(-1) ?? "";
  if (parts.slice(0, -1).includes("kubernetesui")) return true;
  if (last === DASHBOARD || last.startsWith(`${DASHBOARD}-`)) return true;
  return parts.at(-2) === "kubernetes" && (last === "dashboard" || last.startsWith("dashboard-"));
}

/**
 * Why an object looks like (part of) the Kubernetes dashboard, or undefined:
 * a Deployment or Service named or labelled kubernetes-dashboard, or any
 * workload running a dashboard image.
 */
export function dashboardEvidence(object: KubeObject): string | undefined {
  const kind = object.kind ?? "";
  if (kind === "Deployment" || kind === "Service") {
    const name = object.metadata?.name ?? "";
    if (name === DASHBOARD || name.startsWith(`${DASHBOARD}-`)) return `is named ${name}`;
    const labels = strings(object.metadata?.labels);
    const label = Object.entries(labels).find(([, v]) => v === DASHBOARD);
    if (label) return `is labelled ${label[0]}=${label[1]}`;
  }
  if (isWorkloadKind(kind)) {
    const image = imagesOf(object).find(isDashboardImage);
    if (image) return `runs the dashboard image ${image}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Services.

export function isLoadBalancer(service: KubeObject): boolean {
  return rec(service.spec)?.type === "LoadBalancer";
}

/** Azure keeps a load balancer internal only when the annotation is exactly "true". */
export function isInternalLoadBalancer(service: KubeObject): boolean {
  return strings(service.metadata?.annotations)[AZURE_INTERNAL_LB] === "true";
}

// ---------------------------------------------------------------------------
// Version.

export interface VersionVerdict {
  status: "pass" | "fail" | "unknown";
  message: string;
}

function minorOf(version: ServerVersion): { major: number; minor: number } | undefined {
  // Some providers report minor as "29+".
  const major = Number.parseInt(version.major, 10);
  const minor = Number.parseInt(version.minor, 10);
  if (Number.isFinite(major) && Number.isFinite(minor)) return { major, minor };
  const match = /^v?(\d+)\.(\d+)/.exec(version.gitVersion);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/**
 * Fails when the server is more than two minor versions behind the newest
 * version this build knows; says "unknown" when the version is unreadable.
 */
export function judgeVersion(
  version: ServerVersion | undefined,
  newest: { major: number; minor: number } = NEWEST_KNOWN_VERSION,
): VersionVerdict {
  const parsed = version ? minorOf(version) : undefined;
  if (!version || !parsed) {
    return { status: "unknown", message: "the server version could not be read" };
  }
  const shown = version.gitVersion || `v${parsed.major}.${parsed.minor}`;
  const newestText = `${newest.major}.${newest.minor}`;
  if (parsed.major !== newest.major) {
    return { status: "unknown", message: `Kubernetes ${shown} has an unexpected major version` };
  }
  const behind = newest.minor - parsed.minor;
  const oldest = newest.minor - (SUPPORTED_MINOR_VERSIONS - 1);
  if (behind < SUPPORTED_MINOR_VERSIONS) {
    return {
      status: "pass",
      message:
        behind <= 0
          ? `Kubernetes ${shown} is at or beyond ${newestText}, the newest version this Tollgate build knows`
          : `Kubernetes ${shown} is ${behind} minor version${behind === 1 ? "" : "s"} behind ${newestText}, within the supported N-2 window`,
    };
  }
  return {
    status: "fail",
    message:
      `Kubernetes ${shown} is ${behind} minor versions behind ${newestText}, the newest version this Tollgate build knows; ` +
      `AKS supports only the newest three minor versions, so upgrade the control plane and node pools to ${newest.major}.${oldest} or later`,
  };
}
