import type {
  ChecklistRef,
  CheckScope,
  KubeObject,
  PatchOperation,
  ServerVersion,
  Severity,
} from "../engine/index.js";

/**
 * What a finding means for the object. `deny`, `warn` and `audit` are the
 * policy's action in enforce mode, `patch` is a mutation admission would
 * apply, and `report` is a cluster-level check, which nothing enforces.
 */
export const AUDIT_ACTIONS = ["deny", "warn", "audit", "patch", "report"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** PolicyReport result values (wgpolicyk8s.io/v1alpha2). */
export type ReportResult = "pass" | "fail" | "warn" | "error" | "skip";

export interface AuditResourceRef {
  apiVersion: string;
  kind: string;
  /** Unset for cluster-scoped objects. */
  namespace?: string | undefined;
  name: string;
  uid?: string | undefined;
}

/** The PolicyException that covers a finding, as the audit names it. */
export interface FindingException {
  namespace: string;
  name: string;
  /** RFC 3339, when it expires. */
  expires?: string | undefined;
  reason: string;
  /** It ends within 14 days of the audit. */
  expiresSoon: boolean;
}

/** One problem found in the cluster, by a policy or by a cluster-level check. */
export interface AuditFinding {
  source: "policy" | "check";
  /** Policy id or check id. */
  policy: string;
  title: string;
  checklist: ChecklistRef;
  severity: Severity;
  action: AuditAction;
  /**
   * `fail` for deny and cluster checks, `warn` for what would be admitted
   * anyway, `error` when the policy could not judge the object (a CEL policy
   * whose expression failed or ran over its cost budget), `skip` when a
   * PolicyException covers it (`exception` names it): it would be admitted.
   */
  result: "fail" | "warn" | "error" | "skip";
  /** What is wrong and how to fix it, naming the resource. */
  message: string;
  /** The object the finding is about; unset for findings about the cluster as a whole. */
  resource?: AuditResourceRef | undefined;
  /** Field path, as the API server writes it. */
  path?: string | undefined;
  container?: string | undefined;
  /** For a `skip` result: the PolicyException covering the finding. */
  exception?: FindingException | undefined;
  /** Operations a mutation would apply, when a single policy produced them. */
  patch?: PatchOperation[] | undefined;
  /**
   * `cluster` findings go to the ClusterPolicyReport; `namespace` ones to
   * their namespace's PolicyReport (or the cluster one for exempt namespaces).
   */
  scope: CheckScope;
}

/**
 * One page of a list call. Items carry `apiVersion` and `kind`. The page is
 * handed over to the audit, which empties each slot of `items` once that
 * object has been passed on, so a source must yield an array of its own.
 */
export interface ListPage {
  items: KubeObject[];
  /** The server's estimate of items after this page, when it gives one. */
  remaining?: number | undefined;
}

export type { ServerVersion } from "../engine/index.js";

/**
 * Read access to a cluster. Implemented by src/cluster/audit-source.ts over
 * @kubernetes/client-node, and by in-memory fakes in tests. Failures are
 * thrown as AuditError with a one-line message meant for the user.
 */
export interface ClusterSource {
  /** Where the objects come from, for messages: the API server URL. */
  readonly endpoint: string;
  /** Kinds `list` can page through. */
  listableKinds(): readonly string[];
  /**
   * Pages of one kind, across all namespaces when `namespace` is undefined
   * (or for cluster-scoped kinds), using `limit` and `continue`.
   */
  list(kind: string, namespace: string | undefined, pageSize: number): AsyncIterable<ListPage>;
  /** One Namespace object, or undefined when it does not exist. */
  getNamespace(name: string): Promise<KubeObject | undefined>;
  /** The server's version, or undefined when it cannot be read. */
  serverVersion(): Promise<ServerVersion | undefined>;
}

export interface AuditProgress {
  /** The kind being listed. */
  kind: string;
  /** Objects of this kind handled so far. */
  done: number;
  /** The server's estimate of the total for this kind, when known. */
  total?: number | undefined;
  /** Position of this kind in the plan, from 1, and how many kinds there are. */
  step: number;
  steps: number;
}
