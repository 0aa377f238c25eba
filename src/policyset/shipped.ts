import { registry } from "../../policies/index.js";
import { loadPolicySetFile, type ResolvedPolicySet } from "./build.js";
import { type LoadedPolicy, loadDeclarations } from "./declarations.js";

/** The declarations Tollgate ships (policies/index.ts), each checked against its schema. */
export function shippedPolicies(): LoadedPolicy[] {
  return loadDeclarations(registry);
}

/**
 * The policy set the webhook or a command starts from: the shipped
 * declarations with the user's PolicySet file merged over them (or the
 * defaults without one). Throws PolicyLoadError naming the file and field of
 * the first problem. The webhook keeps `declarations` to merge each reloaded
 * file over the same ones.
 */
export function loadPolicies(
  configPath: string | undefined,
  declarations: readonly LoadedPolicy[] = shippedPolicies(),
): ResolvedPolicySet {
  return loadPolicySetFile(declarations, configPath);
}
