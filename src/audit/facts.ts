import type { Observation } from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import type { ListedObject } from "./listed-object.js";

/**
 * What each cluster check has observed, by check id: only the small facts
 * its `observe` returns, never the objects, so memory stays bounded by what
 * the checks keep.
 */
export type CheckFacts = ReadonlyMap<string, readonly Observation<unknown>[]>;

/** One fact an object gave one check. */
export interface CheckFact {
  check: string;
  observation: Observation<unknown>;
}

/** For each listed kind, the cluster checks that observe it. */
export type Observers = ReadonlyMap<string, readonly LoadedClusterCheck[]>;

export function observersOf(checks: readonly LoadedClusterCheck[]): Observers {
  const byKind = new Map<string, LoadedClusterCheck[]>();
  for (const check of checks) {
    for (const kind of check.module.observes)
      byKind.set(kind, [...(byKind.get(kind) ?? []), check]);
  }
  return byKind;
}

/** What an object of an audited namespace tells the checks that observe its kind. */
export function factsOf(
  observers: Observers,
  { object, kind, ref }: ListedObject,
  home: string,
): CheckFact[] {
  const facts: CheckFact[] = [];
  for (const { module } of observers.get(kind) ?? []) {
    const fact = module.observe?.(object, kind);
    if (fact !== undefined) {
      facts.push({ check: module.id, observation: { namespace: home, subject: ref, fact } });
    }
  }
  return facts;
}
