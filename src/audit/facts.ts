import type { KubeObject } from "../engine/index.js";
import { isDefaultDenyIngress } from "./cluster-checks.js";

/**
 * What the cluster checks need to know about each audited namespace. Kept
 * instead of the objects so memory stays bounded by the namespace count.
 */
export interface NamespaceFacts {
  quota: Set<string>;
  limitRange: Set<string>;
  defaultDeny: Set<string>;
  /** Selectors of the PodDisruptionBudgets of each namespace. */
  pdbs: Map<string, unknown[]>;
}

export function emptyFacts(): NamespaceFacts {
  return { quota: new Set(), limitRange: new Set(), defaultDeny: new Set(), pdbs: new Map() };
}

/** Notes what `object`, of `kind` in namespace `home`, tells the cluster checks. */
export function recordFacts(
  facts: NamespaceFacts,
  object: KubeObject,
  kind: string,
  home: string,
): void {
  if (kind === "ResourceQuota") facts.quota.add(home);
  else if (kind === "LimitRange") facts.limitRange.add(home);
  else if (kind === "NetworkPolicy" && isDefaultDenyIngress(object)) {
    facts.defaultDeny.add(home);
  } else if (kind === "PodDisruptionBudget") {
    const selectors = facts.pdbs.get(home) ?? [];
    selectors.push((object.spec as { selector?: unknown } | undefined)?.selector);
    facts.pdbs.set(home, selectors);
  }
}
