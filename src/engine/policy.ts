import type { z } from "zod";
import type { ChecklistMapping } from "./checklist.js";
import type { KubeObject } from "./kube.js";
import type { Path } from "./paths.js";
import type {
  Action,
  Operation,
  PatchOperation,
  ResourceRef,
  Severity,
  UserInfo,
} from "./types.js";
import type { ContainerTarget, PodTarget } from "./workloads.js";

/** The whole object under admission, for policies that are not about pods. */
export interface ObjectTarget {
  resource: ResourceRef;
  object: KubeObject;
  oldObject: KubeObject | undefined;
  operation: Operation;
  /** Who sent the request, when the caller knows (the webhook does; files have no sender). */
  userInfo?: UserInfo | undefined;
  /** The object's Namespace, when the caller has it (see AdmissionInput). */
  namespaceObject?: KubeObject | undefined;
  /**
   * The pod spec the object carries (a Pod's own, a workload's template),
   * found once per evaluation for every policy; undefined for other kinds.
   */
  pod: PodTarget | undefined;
}

/** One problem a check found. The engine adds the policy's metadata. */
export interface Finding {
  /** What is wrong and how to fix it. The engine prefixes resource and container. */
  message: string;
  path: Path;
  /** Set for container-level findings so that image exemptions and messages can use it. */
  container?: Pick<ContainerTarget, "name" | "image"> | undefined;
  /**
   * The policy could not judge the object (a CEL expression failed or ran out
   * of its cost budget): the result is `error`, and the message says why.
   */
  error?: boolean;
  /**
   * Which part of a policy that judges several checklist items this finding
   * is about (the `part` of one of its policy.yaml `checklist` entries); the
   * first entry when unset.
   */
  part?: string | undefined;
}

interface PodHooks<P> {
  scope: "pod";
  validate?: (pod: PodTarget, params: P) => Finding[];
  /** Returns no operations when the pod already complies. */
  mutate?: (pod: PodTarget, params: P) => PatchOperation[];
}

interface ObjectHooks<P> {
  scope: "object";
  /**
   * Narrows the match beyond kinds, operations and namespaces (a CEL
   * policy's matchConditions): `false` skips the policy for this object
   * (`condition-not-matched`); a string says why it could not be decided,
   * which makes the result `error`.
   */
  applies?: (target: ObjectTarget, params: P) => boolean | string;
  validate?: (target: ObjectTarget, params: P) => Finding[];
  mutate?: (target: ObjectTarget, params: P) => PatchOperation[];
}

/** The code half of a policy; the data half is its policy.yaml. */
export type PolicyModule<P = unknown, R = P> = {
  id: string;
  /** Validates `parameters` from policy.yaml and from the user's policy set. */
  parameters: z.ZodType<P>;
  /**
   * Turns the validated parameters into what the hooks take (compiled
   * patterns, lookup sets), once when the policy set is compiled instead of
   * on every request. Without it the hooks get the parameters as they are.
   */
  prepare?: (params: P) => R;
} & (PodHooks<R> | ObjectHooks<R>);

/**
 * Checks a policy's hooks against its own parameter schema (and what
 * `prepare` makes of it), then erases the parameter type so that differently
 * typed policies fit in one registry. The loader validates parameters with
 * that same schema before any hook runs.
 */
export function definePolicy<S extends z.ZodType, R = z.infer<S>>(
  module: { id: string; parameters: S; prepare?: (params: z.infer<S>) => R } & (
    | PodHooks<R>
    | ObjectHooks<R>
  ),
): PolicyModule {
  return module as unknown as PolicyModule;
}

/** Which half of admission a policy belongs to: judging objects or patching them. */
export const POLICY_TYPES = ["validate", "mutate"] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** `long-running` leaves out Jobs, CronJobs and the Pods Jobs own. */
export const WORKLOAD_FILTERS = ["all", "long-running"] as const;
export type WorkloadFilter = (typeof WORKLOAD_FILTERS)[number];

/** The data half of a policy after the user's overrides are merged in. */
export interface PolicyDeclaration {
  id: string;
  title: string;
  /** What the policy checks and why its default action was chosen. */
  description: string;
  /**
   * The checklist items it judges, at least one: findings are about the first
   * unless they name another's `part`.
   */
  checklist: readonly ChecklistMapping[];
  severity: Severity;
  type: PolicyType;
  action: Action;
  enabled: boolean;
  parameters: unknown;
  match: {
    kinds: string[];
    operations: Operation[];
    /** Globs; empty means every namespace. */
    namespaces: string[];
    workloads: WorkloadFilter;
  };
  exemptions: {
    namespaces: string[];
    names: string[];
    images: string[];
  };
  /** Ids of policies whose finding on the same field is the same fault; see evaluate. */
  sameFaultAs: string[];
}
