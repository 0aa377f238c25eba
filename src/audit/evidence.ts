import { isWorkloadKind, type KubeObject, parseImage } from "../engine/index.js";

/** The annotation that keeps an Azure load balancer on the virtual network. */
export const AZURE_INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal";

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

// ---------------------------------------------------------------------------
// Workloads.

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
