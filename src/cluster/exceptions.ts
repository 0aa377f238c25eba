import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import type { ExceptionEvents, ExceptionFeed } from "../exceptions/index.js";

const GROUP = "tollgate.dev";
const VERSION = "v1alpha1";
const PLURAL = "policyexceptions";

export interface ClusterExceptionFeedOptions {
  /** First wait before listing again after a failure; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * PolicyExceptions of every namespace through a client-node informer: one
 * list, then a watch that the informer resumes itself. When listing or
 * watching fails (the CRD not installed yet, the API server restarting) the
 * objects already delivered stay, and it starts again after a growing pause.
 * Needs list and watch on policyexceptions.tollgate.dev cluster-wide.
 */
export function clusterExceptionFeed(
  kubeConfig: KubeConfig,
  options: ClusterExceptionFeedOptions = {},
): ExceptionFeed {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async () =>
    (await api.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
    })) as KubernetesListObject<KubernetesObject>;
  const informer = makeInformer(kubeConfig, `/apis/${GROUP}/${VERSION}/${PLURAL}`, list);
  const firstRetry = options.retryMs ?? 1_000;
  const maxRetry = options.maxRetryMs ?? 30_000;
  let retry = firstRetry;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let failed = false;

  return {
    start(events: ExceptionEvents): Promise<void> {
      informer.on("add", (object) => events.upsert(object));
      informer.on("update", (object) => events.upsert(object));
      informer.on("delete", (object) => events.remove(object));
      informer.on("error", (error: unknown) => {
        if (closed) return;
        failed = true;
        events.failed(error instanceof Error ? error : new Error(String(error)));
        timer = setTimeout(() => {
          timer = undefined;
          if (!closed) void begin();
        }, retry);
        timer.unref();
        retry = Math.min(retry * 2, maxRetry);
      });
      const begin = async () => {
        failed = false;
        // Returns once the list is delivered and the watch open, or once either failed.
        await informer.start();
        if (!failed) retry = firstRetry;
      };
      return begin().catch(() => {});
    },
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      void informer.stop();
    },
  };
}
