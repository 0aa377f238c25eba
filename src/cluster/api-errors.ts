// The one reading of client-node's ApiException: its HTTP status and the
// Kubernetes Status object the API server put in its body. Every adapter
// (audit, reports, Lease, namespaces, certificates) asks these two
// functions instead of looking into the exception itself.
import { ApiException } from "@kubernetes/client-node";

/** The parts of a Kubernetes Status (metav1.Status) the adapters read. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  details?: { kind?: string; name?: string };
  metadata?: { continue?: string };
}

/** The HTTP status the API server answered with; undefined for any other error. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The Kubernetes Status in an ApiException body, when there is one. */
export function kubeStatusOf(error: unknown): KubeStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  if (body && typeof body === "object") return body as KubeStatus;
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === "object" ? (parsed as KubeStatus) : undefined;
  } catch {
    return undefined;
  }
}
