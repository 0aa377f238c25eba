import { registry } from "../../policies/index.js";
import { loadDeclarations, loadPolicySetFile, type ResolvedPolicySet } from "../policyset/index.js";

/**
 * The policy set a command evaluates against: the shipped declarations with
 * the user's PolicySet file merged over them (or the defaults without one).
 * Throws PolicyLoadError naming the file and field of the first problem.
 */
export function loadPolicies(configPath: string | undefined): ResolvedPolicySet {
  return loadPolicySetFile(loadDeclarations(registry), configPath);
}
