// The two Tollgate policy sets of the benchmark: the whole default set (the
// headline) and the same seven checks the Rego peer implements.
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { registry } from "../../../policies/index.js";
import type { LoadedPolicy, Registry, ResolvedPolicySet } from "../../../src/policyset/index.js";
import * as policyset from "../../../src/policyset/index.js";

/** The checks test/bench/opa/policy/admission.rego implements, by Tollgate policy id. */
export const SEVEN_CHECKS = [
  "default-namespace",
  "privileged",
  "probes",
  "required-labels",
  "resources",
  "run-as-non-root",
  "trusted-registry",
] as const;

export interface BenchPolicySets {
  declarations: LoadedPolicy[];
  full: ResolvedPolicySet;
  seven: ResolvedPolicySet;
  /** The PolicySet document that turns every other policy off. */
  sevenFile: Record<string, unknown>;
}

/** Where the policies come from: the sources (default) or the build in dist/. */
export interface PolicySetModules {
  registry: Registry;
  loadDeclarations: typeof policyset.loadDeclarations;
  resolvePolicySet: typeof policyset.resolvePolicySet;
}

export function loadPolicySets(
  modules: PolicySetModules = { registry, ...policyset },
): BenchPolicySets {
  const { loadDeclarations, resolvePolicySet } = modules;
  const declarations = loadDeclarations(modules.registry);
  const ids = declarations.map((p) => p.declaration.id);
  for (const id of SEVEN_CHECKS) {
    if (!ids.includes(id)) throw new Error(`policy ${id} is no longer in the registry`);
  }
  const seven = new Set<string>(SEVEN_CHECKS);
  const sevenFile = {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PolicySet",
    policies: Object.fromEntries(
      ids.filter((id) => !seven.has(id)).map((id) => [id, { enabled: false }]),
    ),
  };
  const full = resolvePolicySet(
    declarations,
    { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" },
    "built-in defaults",
  );
  const restricted = resolvePolicySet(declarations, sevenFile, "the seven checks of the Rego peer");
  const enabled = restricted.set.policies.map((p) => p.declaration.id).sort();
  if (enabled.join() !== [...SEVEN_CHECKS].join()) {
    throw new Error(`the seven-check set enables ${enabled.join(", ")}`);
  }
  return { declarations, full, seven: restricted, sevenFile };
}

export function writePolicySetFile(file: string, document: Record<string, unknown>): void {
  writeFileSync(
    file,
    `# Written by test/bench: Tollgate restricted to the checks of the Rego peer.\n${stringify(document)}`,
  );
}

function parametersOf(sets: BenchPolicySets, id: string): Record<string, unknown> {
  const found = sets.full.policies.find((p) => p.declaration.id === id);
  if (!found) throw new Error(`policy ${id} not found`);
  return found.declaration.parameters as Record<string, unknown>;
}

/**
 * The parameters the Rego peer must use (its data.json), taken from the
 * shipped policy declarations, so that both engines judge by the same rules.
 */
export function regoParameters(sets: BenchPolicySets): Record<string, unknown> {
  const probes = parametersOf(sets, "probes");
  return {
    registries: parametersOf(sets, "trusted-registry").registries,
    allow_root_in_user_namespace: parametersOf(sets, "run-as-non-root").allowRootInUserNamespace,
    require_cpu_limit: parametersOf(sets, "resources").requireCpuLimit,
    labels: parametersOf(sets, "required-labels").labels,
    probes: { liveness: probes.liveness, readiness: probes.readiness },
    exempt_namespaces: sets.full.settings.exemptNamespaces,
  };
}

/**
 * The engine and both policy sets of a build (`<checkout>/dist`), for the
 * scripts that compare two builds of the engine.
 */
export async function loadBuild(checkout: string): Promise<{
  engine: typeof import("../../../src/engine/index.js");
  sets: BenchPolicySets;
}> {
  const engine = (await import(
    `${checkout}/dist/src/engine/index.js`
  )) as typeof import("../../../src/engine/index.js");
  const built = (await import(`${checkout}/dist/src/policyset/index.js`)) as PolicySetModules;
  const { registry: builtRegistry } = (await import(
    `${checkout}/dist/policies/index.js`
  )) as PolicySetModules;
  return { engine, sets: loadPolicySets({ ...built, registry: builtRegistry }) };
}
