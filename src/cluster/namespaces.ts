import {
  CoreV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import type { NamespaceDirectory, NamespaceLabels } from "../server/namespace-mode.js";
import { httpStatusOf } from "./api-errors.js";
import { clusterConfigured, KubeConfigError, loadKubeConfig } from "./kubeconfig.js";

/** Fetches one namespace's labels; `undefined` when it does not exist. */
export type LabelFetcher = (
  namespace: string,
  signal: AbortSignal,
) => Promise<NamespaceLabels | undefined>;

export interface CachedDirectoryOptions {
  /** How long labels are served without asking again. Stale ones are still served while refreshing. */
  ttlMs?: number;
  /** How long a failed lookup is remembered, so a dead API server does not slow every request. */
  errorTtlMs?: number;
  /** Longest a request waits for a lookup it cannot answer from the cache. */
  timeoutMs?: number;
  /** Most namespaces remembered; the oldest entry goes first. */
  maxEntries?: number;
  /** Told once per failed lookup (not once per request). */
  onError?: (namespace: string, error: Error) => void;
  now?: () => number;
}

interface Entry {
  labels: NamespaceLabels | undefined;
  expiresAt: number;
  refreshing: Promise<NamespaceLabels | undefined> | undefined;
}

/**
 * A small, bounded cache in front of namespace lookups. A request waits for
 * the API server only the first time it sees a namespace, and then for at
 * most `timeoutMs`; after that it gets the cached labels at once, while an
 * expired entry is refreshed in the background. Failures are remembered for
 * `errorTtlMs` and answered as "unknown", which means the default mode.
 */
export class CachedNamespaceDirectory implements NamespaceDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly errorTtlMs: number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly fetch: LabelFetcher,
    private readonly options: CachedDirectoryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.errorTtlMs = options.errorTtlMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 2_048;
    this.now = options.now ?? Date.now;
  }

  labelsOf(namespace: string): Promise<NamespaceLabels | undefined> {
    const entry = this.entries.get(namespace);
    if (entry) {
      // The first lookup is still running: wait for it rather than ask again.
      if (entry.expiresAt === 0 && entry.refreshing) return entry.refreshing;
      if (entry.expiresAt <= this.now() && !entry.refreshing && !this.closed) {
        entry.refreshing = this.lookup(namespace, entry.labels);
      }
      return Promise.resolve(entry.labels);
    }
    const fresh: Entry = { labels: undefined, expiresAt: 0, refreshing: undefined };
    this.remember(namespace, fresh);
    fresh.refreshing = this.lookup(namespace, undefined);
    return fresh.refreshing;
  }

  private remember(namespace: string, entry: Entry): void {
    this.entries.delete(namespace);
    this.entries.set(namespace, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  private async lookup(
    namespace: string,
    previous: NamespaceLabels | undefined,
  ): Promise<NamespaceLabels | undefined> {
    let labels = previous;
    let ttl = this.errorTtlMs;
    try {
      labels = await this.fetch(namespace, AbortSignal.timeout(this.timeoutMs));
      ttl = this.ttlMs;
    } catch (error) {
      this.options.onError?.(namespace, error as Error);
    }
    const entry = this.entries.get(namespace);
    if (entry) {
      entry.labels = labels;
      entry.expiresAt = this.now() + ttl;
      entry.refreshing = undefined;
    }
    return labels;
  }

  close(): void {
    this.closed = true;
    this.entries.clear();
  }
}

type RequestOptions = Parameters<CoreV1Api["readNamespace"]>[1];

/** Passes the lookup's abort signal to the HTTP request, so a timeout really ends it. */
function abortOptions(signal: AbortSignal): RequestOptions {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** Reads Namespace objects with @kubernetes/client-node. */
export function namespaceLabelFetcher(kubeConfig: KubeConfig): LabelFetcher {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return async (name, signal) => {
    try {
      const namespace = await api.readNamespace({ name }, abortOptions(signal));
      return namespace.metadata?.labels ?? {};
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
}

export interface ClusterDirectoryOptions extends CachedDirectoryOptions {
  /** Defaults to the usual lookup: KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeConfig?: KubeConfig;
}

/**
 * The namespace directory of the cluster the process can reach, or undefined
 * when there is no cluster configuration at all.
 */
export function clusterNamespaceDirectory(
  options: ClusterDirectoryOptions = {},
): NamespaceDirectory | undefined {
  let kubeConfig = options.kubeConfig;
  if (!kubeConfig) {
    if (!clusterConfigured()) return undefined;
    try {
      kubeConfig = loadKubeConfig();
    } catch (error) {
      // A kubeconfig without a cluster is no cluster; an unreadable one is an error.
      if (error instanceof KubeConfigError && error.problem !== "unusable") return undefined;
      throw error;
    }
  }
  if (!kubeConfig.getCurrentCluster()) return undefined;
  return new CachedNamespaceDirectory(namespaceLabelFetcher(kubeConfig), options);
}
