// @kubernetes/client-node costs about 50 MB of memory and a noticeable
// start-up, so nothing loads it until a command or a serve feature actually
// talks to a cluster (an audit, --namespaces cluster, --manage-certs,
// --watch-exceptions, --background-audit). This is the one place that import
// happens; `tollgate test`, `fix` and a plain webhook never reach it.
export type ClusterAdapters = typeof import("./adapters.js");

/** The client-node adapters, loaded on first use (Node caches the module afterwards). */
export function loadClusterAdapters(): Promise<ClusterAdapters> {
  return import("./adapters.js");
}
