// The cluster under test, as chosen once by global-setup.ts and handed to
// every test file through vitest's provide/inject.
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import type { E2ECluster, LocalDetails } from "./env.js";

export type { E2ECluster, LocalDetails } from "./env.js";

/** The cluster chosen by the global setup. */
export function cluster(): E2ECluster {
  return inject("e2eCluster");
}

/** True on the loopback control plane, where the suite controls the Tollgate process. */
export function isLocal(): boolean {
  return cluster().kind === "local";
}

/** Local control plane details; throws on an external cluster (guard the suite with skipIf). */
export function localCluster(): LocalDetails {
  const local = cluster().local;
  if (!local) throw new Error("this test needs the local control plane (npm run cluster:up)");
  return local;
}

let config: KubeConfig | undefined;

/** A client-node KubeConfig for the cluster under test. */
export function kubeConfig(): KubeConfig {
  if (!config) {
    config = new KubeConfig();
    config.loadFromFile(cluster().kubeconfig);
  }
  return config;
}

let clients: { core: CoreV1Api; apps: AppsV1Api; batch: BatchV1Api } | undefined;

/** client-node API clients (object-style parameters) for the cluster under test. */
export function api() {
  if (!clients) {
    const kc = kubeConfig();
    clients = {
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      batch: kc.makeApiClient(BatchV1Api),
    };
  }
  return clients;
}

/** The HTTP status of a client-node error (ApiException.code), if any. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/** Resolves to the object, or undefined on 404. */
export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}
