import { compilePolicySet } from "../engine/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { UsageError } from "./errors.js";

/** `--policy` and `--skip`: which policies of the set a run looks at. */
export interface PolicySelection {
  /** Only these run (turned on if the set has them off); empty: all that are on. */
  only: readonly string[];
  /** These never run. */
  skip: readonly string[];
}

/**
 * The set narrowed to a selection. Unknown ids are usage errors naming the
 * known ones, so a typo cannot silently check nothing.
 */
export function selectPolicies(
  resolved: ResolvedPolicySet,
  selection: PolicySelection,
): ResolvedPolicySet {
  if (selection.only.length === 0 && selection.skip.length === 0) return resolved;
  const known = new Set(resolved.policies.map((p) => p.declaration.id));
  for (const [flag, ids] of [
    ["--policy", selection.only],
    ["--skip", selection.skip],
  ] as const) {
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new UsageError(
        `${flag}: unknown polic${unknown.length === 1 ? "y" : "ies"} ${unknown.join(", ")}; known ones are: ${[...known].join(", ")}`,
      );
    }
  }
  const only = new Set(selection.only);
  const skip = new Set(selection.skip);
  const policies = resolved.policies.map((p) => {
    const id = p.declaration.id;
    const enabled = skip.has(id) ? false : only.size > 0 ? only.has(id) : p.declaration.enabled;
    return { ...p, declaration: { ...p.declaration, enabled } };
  });
  return {
    ...resolved,
    policies,
    // The set's workloadKinds too, or a Rollout's pod template would go unjudged.
    set: compilePolicySet(policies, resolved.settings.exemptNamespaces, resolved.workloadKinds),
  };
}
