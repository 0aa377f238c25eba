// Every cluster check the audit makes, by a short name, for tests that look
// for their findings: the declared cluster checks (policies/cluster/) as
// loaded from the registry.
import { registry } from "../../policies/index.js";
import type { ClusterCheckDeclaration } from "../../src/engine/index.js";
import { loadClusterChecks } from "../../src/policyset/index.js";

const declared = new Map(loadClusterChecks(registry).map((c) => [c.declaration.id, c.declaration]));

function named(id: string): ClusterCheckDeclaration {
  const declaration = declared.get(id);
  if (!declaration) throw new Error(`no cluster check ${id} in policies/index.ts`);
  return declaration;
}

export const CHECKS = {
  resourceQuota: named("namespace-resource-quota"),
  limitRange: named("namespace-limit-range"),
  defaultDeny: named("namespace-default-deny"),
  disruptionBudget: named("pod-disruption-budget"),
  version: named("kubernetes-version"),
};

/** Every check, as the audit's reach and score see them. */
export const ALL_CHECKS = [...declared.values()];
