import {
  type ExceptionLookup,
  type ExceptionRef,
  isRecord,
  type KubeObject,
  type ResourceRef,
} from "../engine/index.js";
import {
  covers,
  coversFinding,
  type ExceptedObject,
  inForce,
  type PolicyException,
} from "./exception.js";

/** Exceptions by namespace: a request only ever looks at its own namespace's. */
export type ExceptionIndex = ReadonlyMap<string, readonly PolicyException[]>;

/** Indexes exceptions by namespace, in a stable (namespace, name) order. */
export function indexExceptions(exceptions: Iterable<PolicyException>): ExceptionIndex {
  const index = new Map<string, PolicyException[]>();
  for (const exception of exceptions) {
    const list = index.get(exception.namespace) ?? [];
    list.push(exception);
    index.set(exception.namespace, list);
  }
  for (const list of index.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return index;
}

export interface LookupOptions {
  /** Milliseconds since the epoch; expiry is judged against it on every request. */
  now: number;
  /** Namespaces allowed to hold exceptions (the PolicySet's exceptionNamespaces). */
  mayHold: (namespace: string) => boolean;
}

function refOf(exception: PolicyException): ExceptionRef {
  return {
    namespace: exception.namespace,
    name: exception.name,
    expires: exception.spec.expires,
    reason: exception.spec.reason,
  };
}

function labelsOf(object: KubeObject): Record<string, string> {
  const labels = object.metadata?.labels;
  return isRecord(labels) ? (labels as Record<string, string>) : {};
}

/** The exceptions of the object's namespace that cover it and are in force. */
export function exceptionsCovering(
  index: ExceptionIndex,
  object: ExceptedObject,
  options: LookupOptions,
): PolicyException[] {
  const { namespace } = object;
  if (namespace === undefined || !options.mayHold(namespace)) return [];
  const candidates = index.get(namespace) ?? [];
  return candidates.filter((e) => inForce(e, options.now) && covers(e, object));
}

/**
 * What the engine asks per request: given the resource, a function from a
 * finding (policy, container) to the exception covering it, or undefined
 * when no exception covers the object at all. The first exception by name wins.
 */
export function exceptionLookup(
  index: ExceptionIndex,
  options: LookupOptions,
): (resource: ResourceRef, object: KubeObject) => ExceptionLookup | undefined {
  return (resource, object) => {
    if (index.size === 0) return undefined;
    const covering = exceptionsCovering(
      index,
      {
        namespace: resource.namespace,
        kind: resource.kind,
        name: resource.name,
        labels: labelsOf(object),
      },
      options,
    );
    if (covering.length === 0) return undefined;
    return (policy, container) => {
      const found = covering.find((e) => coversFinding(e, policy, container));
      return found ? refOf(found) : undefined;
    };
  };
}
