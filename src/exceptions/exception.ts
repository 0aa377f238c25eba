import { globMatcher } from "../engine/index.js";
import type { ExceptionSpec } from "./schema.js";
import { type LabelSelector, selects } from "./selector.js";

/** A PolicyException ready to match: its identity, its spec and its compiled globs. */
export interface PolicyException {
  namespace: string;
  name: string;
  spec: ExceptionSpec;
  /** `spec.expires` in milliseconds since the epoch; undefined when it never expires. */
  expiresAt: number | undefined;
  policies: ReadonlySet<string>;
  kinds: ReadonlySet<string> | undefined;
  names: ((name: string) => boolean) | undefined;
  selector: LabelSelector | undefined;
  containers: ReadonlySet<string> | undefined;
}

/** Compiles a validated spec; its globs are built once, not per request. */
export function compileException(
  namespace: string,
  name: string,
  spec: ExceptionSpec,
): PolicyException {
  const { match } = spec;
  return {
    namespace,
    name,
    spec,
    expiresAt: spec.expires === undefined ? undefined : Date.parse(spec.expires),
    policies: new Set(spec.policies),
    kinds: match.kinds ? new Set(match.kinds) : undefined,
    names: match.names ? globMatcher(match.names) : undefined,
    selector: match.selector,
    containers: spec.containers ? new Set(spec.containers) : undefined,
  };
}

/** The object a request is about, as far as exceptions care. */
export interface ExceptedObject {
  namespace: string | undefined;
  kind: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** Whether the exception still applies at `now` (ms): it stops at the instant it expires. */
export function inForce(exception: PolicyException, now: number): boolean {
  return exception.expiresAt === undefined || now < exception.expiresAt;
}

/**
 * Whether the exception covers this object: same namespace (an exception
 * never reaches another namespace, nor cluster-scoped objects), and every
 * match field it sets holds.
 */
export function covers(exception: PolicyException, object: ExceptedObject): boolean {
  if (object.namespace === undefined || object.namespace !== exception.namespace) return false;
  if (exception.kinds && !exception.kinds.has(object.kind)) return false;
  if (exception.names && !exception.names(object.name)) return false;
  if (exception.selector && !selects(exception.selector, object.labels)) return false;
  return true;
}

/**
 * Whether the exception covers a finding of `policy`. With `containers`, only
 * findings about those containers are covered; a finding about the pod as a
 * whole (a hostPath volume, hostNetwork) names no container and is not.
 */
export function coversFinding(
  exception: PolicyException,
  policy: string,
  container: string | undefined,
): boolean {
  if (!exception.policies.has(policy)) return false;
  if (!exception.containers) return true;
  return container !== undefined && exception.containers.has(container);
}

/** `team-a/csi-node`, as warnings, annotations and reports name an exception. */
export function exceptionId(exception: Pick<PolicyException, "namespace" | "name">): string {
  return `${exception.namespace}/${exception.name}`;
}
