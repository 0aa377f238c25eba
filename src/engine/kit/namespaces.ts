import type { CheckOutcome, CheckSubject, ClusterFacts } from "../cluster-check.js";

/** The subject of a finding about a whole namespace. */
export function namespaceSubject(name: string): CheckSubject {
  return { apiVersion: "v1", kind: "Namespace", name };
}

/**
 * One outcome per audited namespace: a pass where some object observed
 * there counted, else a fail saying `problem`. For the checks of the form
 * "every namespace has a …".
 */
export function everyNamespaceHas(facts: ClusterFacts<unknown>, problem: string): CheckOutcome[] {
  const have = new Set(facts.observed.map((o) => o.namespace));
  return facts.namespaces.map((name) =>
    have.has(name)
      ? { status: "pass", subject: namespaceSubject(name) }
      : { status: "fail", subject: namespaceSubject(name), message: problem },
  );
}
