import type { Observation } from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import type { ListedObject } from "./listed-object.js";

/**
 * What each cluster check has observed so far, by check id: only the small
 * facts its `observe` returns, never the objects, so memory stays bounded
 * by what the checks keep.
 */
export type CheckFacts = Map<string, Observation<unknown>[]>;

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

/** Shows an object of an audited namespace to the checks that observe its kind. */
export function recordFacts(
  facts: CheckFacts,
  observers: Observers,
  { object, kind, ref, home }: ListedObject & { home: string },
): void {
  for (const { module } of observers.get(kind) ?? []) {
    const fact = module.observe?.(object, kind);
    if (fact === undefined) continue;
    const list = facts.get(module.id) ?? [];
    list.push({ namespace: home, subject: ref, fact });
    facts.set(module.id, list);
  }
}
