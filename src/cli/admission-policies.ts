// `tollgate test` as the API server's own admission: the ValidatingAdmissionPolicies
// and Bindings found in the inputs (or in --policies) run against every other
// object, after Tollgate's mutations, as they would once both are installed.
import jsonpatch from "fast-json-patch";
import { cloneData } from "../engine/clone.js";
import type { KubeObject, Verdict } from "../engine/index.js";
import {
  evaluateVaps,
  isVapObject,
  loadVapSet,
  type PlacedObject,
  type VapDecision,
  type VapSet,
} from "../vap/index.js";
import type { CliIO } from "./context.js";
import { type InputProblem, manifestsOf, readInputs, type SourcedObject } from "./inputs.js";
import { CLUSTER_SCOPED_KINDS, namespaceFor } from "./resources.js";

export { isVapObject };

function placed(objects: readonly SourcedObject[]): PlacedObject[] {
  return objects.map((m) => ({ object: m.object, where: `${m.source}: document ${m.document}` }));
}

/**
 * The policies, bindings and params of the inputs plus those of `--policies`
 * directories. Problems (bad YAML there, a binding without actions, an
 * expression that does not compile) name the file and document.
 */
export async function loadAdmissionPolicies(
  inputs: readonly SourcedObject[],
  policyDirs: readonly string[],
  io: CliIO,
): Promise<{ set: VapSet; problems: InputProblem[] }> {
  const problems: InputProblem[] = [];
  const extra: SourcedObject[] = [];
  if (policyDirs.length > 0) {
    const read = await readInputs(policyDirs, io);
    const found = manifestsOf(read.files);
    problems.push(...read.problems, ...found.problems);
    extra.push(...found.objects);
  }
  const loaded = loadVapSet(placed([...extra, ...inputs]));
  for (const p of loaded.problems) problems.push({ source: p.where, message: p.message });
  return { set: loaded.set, problems };
}

/** The object the validating phase sees: Tollgate's patch applied, as its mutating webhook would. */
function mutated(object: KubeObject, verdict: Verdict): KubeObject {
  if (verdict.patch.length === 0) return object;
  const copy = cloneData(object);
  jsonpatch.applyPatch(copy, cloneData(verdict.patch), false, true);
  return copy;
}

export function admissionPolicyDecisions(
  set: VapSet,
  object: KubeObject,
  verdict: Verdict,
  defaultNamespace: string | undefined,
): VapDecision[] {
  const clusterScoped = typeof object.kind === "string" && CLUSTER_SCOPED_KINDS.has(object.kind);
  return evaluateVaps(set, {
    object: mutated(object, verdict),
    oldObject: undefined,
    operation: "CREATE",
    namespace: clusterScoped ? undefined : (namespaceFor(object, defaultNamespace) ?? "default"),
    clusterScoped,
  });
}
