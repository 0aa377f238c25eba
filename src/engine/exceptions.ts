import type { KubeObject } from "./kube.js";
import type { ResourceRef, Violation } from "./types.js";

/** A PolicyException that covers a finding, as results, warnings and reports name it. */
export interface ExceptionRef {
  namespace: string;
  name: string;
  /** RFC 3339, when the exception expires. */
  expires: string | undefined;
  reason: string;
}

/** The exception covering one finding of `policy` (about `container`, if any). */
export type ExceptionLookup = (
  policy: string,
  container: string | undefined,
) => ExceptionRef | undefined;

/**
 * Given the object of a request, the lookup for its findings, or undefined
 * when no exception covers the object at all. The caller binds the clock
 * and the exceptions in force; the engine stays pure.
 */
export type ExceptionSource = (
  resource: ResourceRef,
  object: KubeObject,
) => ExceptionLookup | undefined;

/** A violation an exception covers: it never denies, and stays visible. */
export interface ExceptedViolation extends Violation {
  exception: ExceptionRef;
}

/** Splits violations into those that still count and those an exception covers. */
export function applyExceptions(
  violations: readonly Violation[],
  lookup: ExceptionLookup | undefined,
): { violations: Violation[]; excepted: ExceptedViolation[] } {
  if (!lookup) return { violations: [...violations], excepted: [] };
  const kept: Violation[] = [];
  const excepted: ExceptedViolation[] = [];
  for (const violation of violations) {
    const exception = lookup(violation.policy, violation.container);
    if (exception) excepted.push({ ...violation, exception });
    else kept.push(violation);
  }
  return { violations: kept, excepted };
}

/** `team-a/csi-node until 2027-01-31`, or just the name when it never expires. */
export function describeException(exception: ExceptionRef): string {
  const id = `${exception.namespace}/${exception.name}`;
  return exception.expires ? `${id} until ${exception.expires.slice(0, 10)}` : id;
}

/** One warning per policy and exception: `privileged: excepted by team-a/csi-node until 2027-01-31`. */
export function exceptionWarnings(excepted: readonly ExceptedViolation[]): string[] {
  const seen = new Set<string>();
  for (const v of excepted) seen.add(`${v.policy}: excepted by ${describeException(v.exception)}`);
  return [...seen];
}
