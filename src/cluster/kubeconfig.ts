// The one way Tollgate finds the cluster it talks to: the audit, the
// namespace directory, the exception feed, the background audit's Lease and
// the certificate manager all start here.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Why no usable kubeconfig was found; the message is one line meant for the user. */
export type KubeConfigProblem = "no-such-file" | "unusable" | "no-current-cluster" | "none-found";

export class KubeConfigError extends Error {
  override name = "KubeConfigError";
  constructor(
    readonly problem: KubeConfigProblem,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The kubeconfig to use: `file` when given, else what kubectl would use
 * (KUBECONFIG, then ~/.kube/config), else the pod's service account when
 * running in a cluster. Throws KubeConfigError when none of them is usable.
 */
export function loadKubeConfig(file?: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const shown = file ?? "(default)";
  try {
    if (file) {
      if (!existsSync(file)) {
        throw new KubeConfigError("no-such-file", `kubeconfig ${file}: no such file`);
      }
      kc.loadFromFile(file);
    } else {
      kc.loadFromDefault();
    }
  } catch (error) {
    if (error instanceof KubeConfigError) throw error;
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new KubeConfigError("unusable", `kubeconfig ${shown}: cannot be used: ${message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new KubeConfigError(
      "no-current-cluster",
      `kubeconfig ${shown}: no current context with a cluster; set current-context or pass --kubeconfig`,
    );
  }
  // loadFromDefault's last resort when it finds nothing at all.
  if (!file && cluster.name === "cluster" && cluster.server === "http://localhost:8080") {
    throw new KubeConfigError(
      "none-found",
      "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a pod",
    );
  }
  return kc;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * Whether there is any cluster to ask: a KUBECONFIG, a ~/.kube/config, or a
 * service account token inside a pod. Without one the client would fall back
 * to http://localhost:8080, which is never what a webhook wants.
 */
export function clusterConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KUBECONFIG) return true;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) return true;
  const home = env.HOME ?? homedir();
  return Boolean(home) && existsSync(join(home, ".kube", "config"));
}
