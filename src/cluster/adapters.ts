// Everything Tollgate builds on @kubernetes/client-node, in one module that
// is only ever loaded through loadClusterAdapters() (load.ts): callers name
// what they use here, and no other module imports these files for their
// values.
export { inClusterCertificateClients } from "../certificates/kube.js";
export { auditKubeConfig } from "./audit-connect.js";
export { kubeAuditAdapters } from "./audit-reports.js";
export { clusterExceptionFeed } from "./exceptions.js";
export { loadKubeConfig } from "./kubeconfig.js";
export { kubeLeaseStore } from "./leader-election-kube.js";
export { clusterNamespaceDirectory } from "./namespaces.js";
