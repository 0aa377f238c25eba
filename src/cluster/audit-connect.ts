import type { KubeConfig } from "@kubernetes/client-node";
import { AuditError } from "../audit/errors.js";
import { httpStatusOf, kubeStatusOf } from "./api-errors.js";
import { KubeConfigError, loadKubeConfig } from "./kubeconfig.js";

/**
 * The kubeconfig to audit with (see loadKubeConfig), failing as an audit
 * usage error: the CLI prints its one line and exits with code 2.
 */
export function auditKubeConfig(file?: string | undefined): KubeConfig {
  try {
    return loadKubeConfig(file);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new AuditError("usage", error.message);
    throw error;
  }
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
    const said = kubeStatusOf(error)?.message;
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
