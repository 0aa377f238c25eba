import type { ExceptedViolation } from "./exceptions.js";
import type { PatchOperation, Violation } from "./types.js";

/**
 * What became of one policy on one request. Produced by:
 * - `pass`: the engine; the policy ran and found nothing (a mutation: had nothing to change).
 * - `fail`: the engine; a validation found problems (`findings`), or a
 *   mutation would change the object (`patch`, what enforce applies).
 * - `skip`: the engine; the policy did not run, `reason` says why.
 * - `excepted`: the engine, when a PolicyException (src/exceptions) covers
 *   every finding of a failed validation; they move to `excepted`.
 * - `error`: the policy could not be judged (a CEL policy whose expression
 *   fails to evaluate, issue 12); never counted as a pass.
 */
export const POLICY_STATUSES = ["pass", "fail", "skip", "excepted", "error"] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

/**
 * Why a policy was skipped. The first seven mean the policy does not match the
 * request; the others that it matched but its hook did not run.
 */
export const SKIP_REASONS = [
  /** `enabled: false` in the policy set. */
  "disabled",
  /** `match.kinds` leaves out the object's kind. */
  "kind-not-matched",
  /** `match.operations` leaves out the request's operation. */
  "operation-not-matched",
  /** `match.namespaces` leaves out the object's namespace. */
  "namespace-not-matched",
  /** `exemptions.namespaces` names the object's namespace. */
  "exempt-namespace",
  /** `exemptions.names` names the object. */
  "exempt-name",
  /** A matchCondition of a CEL policy is false for the object. */
  "condition-not-matched",
  /** `exemptions.images` covers the containers the policy would judge or patch. */
  "exempt-image",
  /** `match.workloads: long-running`, and this is a Job, CronJob or a Job's Pod. */
  "not-long-running",
  /** A pod policy, and the object carries no pod spec to judge. */
  "no-pod-spec",
  /** A mutation on a request that must not be patched (see `mayMutate`). */
  "not-mutable",
  /** The policy belongs to the half of admission this call did not run. */
  "other-phase",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Skip reasons that mean the policy matched the request but did not run on it. */
const MATCHED_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>([
  "exempt-image",
  "not-long-running",
  "no-pod-spec",
  "not-mutable",
  "other-phase",
]);

interface ResultBody {
  policy: string;
  /** Validation findings that count, in the order the policy reported them. */
  findings: readonly Violation[];
  /** Findings a PolicyException covers: they never deny, and stay visible. */
  excepted: readonly ExceptedViolation[];
  /** A mutation's operations, valid against the object as earlier mutations left it. */
  patch: readonly PatchOperation[];
}

export type PolicyResult =
  | (ResultBody & { status: Exclude<PolicyStatus, "skip">; reason?: undefined })
  | (ResultBody & { status: "skip"; reason: SkipReason });

/** Why a whole request was admitted without looking at any policy. */
export const REQUEST_SKIP_REASONS = [
  /** DELETE and CONNECT carry nothing to judge. */
  "operation-not-judged",
  /** The request has no object (nothing to judge). */
  "no-object",
  /** The namespace is exempt from every policy (kube-system, the policy set's list). */
  "exempt-namespace",
  /** No enabled policy is about the object's kind. */
  "kind-not-matched",
] as const;
export type RequestSkipReason = (typeof REQUEST_SKIP_REASONS)[number];

/** Whether the policy ran on the object: only these count in a checklist score. */
export function ran(result: PolicyResult): boolean {
  return result.status !== "skip";
}

/** Whether the policy matched the request, whether or not its hook then ran. */
export function matched(result: PolicyResult): boolean {
  return result.status !== "skip" || MATCHED_REASONS.has(result.reason);
}

const NONE: readonly never[] = Object.freeze([]);

/** The result of a policy that ran and found nothing; frozen, so one object can serve every request. */
export function passResult(policy: string): PolicyResult {
  return Object.freeze({ policy, status: "pass", findings: NONE, patch: NONE, excepted: NONE });
}

/** A skipped policy's result; frozen, so one object can serve every request. */
export function skipResult(policy: string, reason: SkipReason): PolicyResult {
  return Object.freeze({
    policy,
    status: "skip",
    reason,
    findings: NONE,
    patch: NONE,
    excepted: NONE,
  });
}
