import type { ExceptedViolation } from "./exceptions.js";
import type { KubeObject } from "./kube.js";
import type { PolicyType } from "./policy.js";
import type { PolicyResult, RequestSkipReason } from "./result.js";

export const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What a policy asks for when it is violated, in enforce mode. */
export const ACTIONS = ["deny", "warn", "audit"] as const;
export type Action = (typeof ACTIONS)[number];

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * How a namespace is treated. `enforce` honours each policy's action;
 * `warn` admits everything and returns violations as warnings; `audit`
 * admits everything and only records.
 */
export const MODES = ["enforce", "warn", "audit"] as const;
export type Mode = (typeof MODES)[number];

/** Which half of admission to run. The CLI runs both, the webhook one per endpoint. */
export type Phase = PolicyType | "both";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The request's sender, as the API server's authenticator names it. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Everything the engine needs to know about one admission request. */
export interface AdmissionInput {
  operation: Operation;
  kind: GroupVersionKind;
  namespace: string | undefined;
  name: string | undefined;
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
  dryRun: boolean;
  userInfo: UserInfo | undefined;
  /**
   * The Namespace the object lives in, when the caller can tell without the
   * engine looking anything up: the webhook from its namespace directory, the
   * CLI from the Namespace objects among its inputs. Only CEL policies read it.
   */
  namespaceObject?: KubeObject | undefined;
}

export interface ChecklistRef {
  section: string;
  item: string;
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
}

export interface Violation {
  policy: string;
  title: string;
  checklist: ChecklistRef;
  severity: Severity;
  action: Action;
  /** Says what is wrong and how to fix it, naming the resource and container. */
  message: string;
  /** API-server style field path, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  resource: ResourceRef;
  container: string | undefined;
}

/** RFC 6902 operations; the engine only ever emits these. */
export type PatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

/**
 * The engine's answer to one request. `results` is the record; every other
 * field is a summary read off it, kept because most callers need just that.
 */
export interface Verdict {
  allowed: boolean;
  mode: Mode;
  /** Why no policy was looked at; then `results` is empty. Undefined when they were. */
  skipped: RequestSkipReason | undefined;
  /** One per policy of the set, in its order (mutations first), then the disabled ones. */
  results: PolicyResult[];
  /** The findings of every failed result, in result order. */
  violations: Violation[];
  /** Violations a PolicyException covers: they never deny, and are reported as excepted. */
  excepted: ExceptedViolation[];
  warnings: string[];
  /** Keys are short qualified names; the webhook prefixes them on the API server side. */
  auditAnnotations: Record<string, string>;
  /**
   * Valid against the request's original object, applied in order: the failed
   * mutations' operations in enforce mode; empty in warn and audit, which
   * never patch (their results still say what enforce would).
   */
  patch: PatchOperation[];
  /** Ids of the mutation policies that contributed to `patch`. */
  mutatedBy: string[];
  /**
   * Ids of the policies that matched the request (kind, operation, namespace,
   * name), whether or not their hook then ran: see `results` for that.
   */
  evaluated: string[];
}
