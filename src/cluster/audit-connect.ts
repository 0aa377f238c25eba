import { existsSync } from "node:fs";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { AuditError } from "../audit/errors.js";

/**
 * The kubeconfig to audit with: `file` when given, else what kubectl would
 * use (KUBECONFIG, then ~/.kube/config), else the pod's service account when
 * running in a cluster. Fails with one line when none of them exists.
 */
export function loadKubeConfig(file?: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) {
      if (!existsSync(file)) throw new AuditError("usage", `kubeconfig ${file}: no such file`);
      kc.loadFromFile(file);
    } else {
      kc.loadFromDefault();
    }
  } catch (error) {
    if (error instanceof AuditError) throw error;
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new AuditError("usage", `kubeconfig ${file ?? "(default)"}: cannot be used: ${message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new AuditError(
      "usage",
      `kubeconfig ${file ?? "(default)"}: no current context with a cluster; set current-context or pass --kubeconfig`,
    );
  }
  // loadFromDefault's last resort when it finds nothing at all.
  if (!file && cluster.name === "cluster" && cluster.server === "http://localhost:8080") {
    throw new AuditError(
      "usage",
      "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a pod",
    );
  }
  return kc;
}

interface Status {
  message?: string;
  reason?: string;
  details?: { kind?: string; name?: string };
  metadata?: { continue?: string };
}

/** The Kubernetes Status in an ApiException body, when there is one. */
export function statusOf(error: unknown): Status | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  if (body && typeof body === "object") return body as Status;
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === "object" ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}

export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not trusted",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name this address",
};

/** Errors worth retrying once or twice: overload and dropped connections. */
export function isTransient(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) return [429, 500, 502, 503, 504].includes(status);
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ECONNRESET" || code === "ETIMEDOUT" || code === "EAI_AGAIN";
}

export interface Attempt {
  verb: string;
  /** Qualified resource, e.g. `deployments.apps`. */
  resource: string;
  namespace?: string | undefined;
  /** API server URL, for connection errors. */
  endpoint: string;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/**
 * One line for a failed API call: unreachable (with the network reason),
 * unauthorized, forbidden (naming the verb and resource to grant), or what
 * the server said.
 */
export function toAuditError(error: unknown, attempt: Attempt): AuditError {
  if (error instanceof AuditError) return error;
  const { verb, resource, namespace, endpoint } = attempt;
  const where = namespace ? ` in namespace "${namespace}"` : "";
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const said = statusOf(error)?.message;
    if (status === 401) {
      return new AuditError(
        "unauthorized",
        `unauthorized: ${endpoint} rejected the kubeconfig's credentials (expired token or certificate?)`,
      );
    }
    if (status === 403) {
      return new AuditError(
        "forbidden",
        `forbidden: cannot ${verb} ${resource}${where}; grant the auditing identity "${verb}" on "${resource}"` +
          (said ? ` (${firstLine(said)})` : ""),
      );
    }
    if (status === 404) {
      return new AuditError(
        "not-found",
        `not found: the server does not serve ${resource}${where}` +
          (said ? ` (${firstLine(said)})` : ""),
      );
    }
    return new AuditError(
      "server",
      `the API server answered ${status} to ${verb} ${resource}${where}` +
        (said ? `: ${firstLine(said)}` : ""),
    );
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  const reason =
    typeof code === "string" && NETWORK_CODES[code]
      ? `${NETWORK_CODES[code]} (${code})`
      : error instanceof Error
        ? firstLine(error.message)
        : String(error);
  return new AuditError("unreachable", `cannot reach the cluster at ${endpoint}: ${reason}`);
}

/** Runs `call`, retrying transient failures twice with a short backoff. */
export async function withRetry<T>(call: () => Promise<T>, delays = [500, 2000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
