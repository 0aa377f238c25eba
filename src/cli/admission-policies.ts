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
import {
  type InputFile,
  type InputProblem,
  mentions,
  objectsIn,
  readObjects,
  type SourcedObject,
} from "./inputs.js";
import { CLUSTER_SCOPED_KINDS, namespaceFor } from "./resources.js";

export { isVapObject };

function placed(objects: readonly SourcedObject[]): PlacedObject[] {
  return objects.map((m) => ({ object: m.object, where: `${m.source}: document ${m.document}` }));
}

/** Text every ValidatingAdmissionPolicy and Binding holds (their API group). */
const VAP_GROUP = "admissionregistration.k8s.io";

/** The `apiVersion/kind` of the params a policy object asks for, if any. */
function paramKindOf(object: KubeObject): string | undefined {
  const spec = object.spec as { paramKind?: { apiVersion?: unknown; kind?: unknown } } | undefined;
  const kind = spec?.paramKind;
  return typeof kind?.apiVersion === "string" && typeof kind.kind === "string"
    ? `${kind.apiVersion}/${kind.kind}`
    : undefined;
}

/**
 * The policies, bindings and params of the inputs plus everything in the
 * `--policies` paths. Inputs are streamed, so they are searched in passes:
 * a quick text scan finds the files that mention the admissionregistration
 * group and their policy objects are read; only when there are policies are
 * the inputs read once more, for their params and for Namespaces. Problems (bad
 * YAML in --policies, a binding without actions, an expression that does
 * not compile) name the file and document; the inputs' own problems are the
 * main pass's to report.
 */
export async function loadAdmissionPolicies(
  inputs: readonly InputFile[],
  policyPaths: readonly string[],
  io: CliIO,
): Promise<{ set: VapSet; problems: InputProblem[] }> {
  const given =
    policyPaths.length > 0 ? await readObjects(policyPaths, io) : { objects: [], problems: [] };
  const problems: InputProblem[] = [...given.problems];
  const found: SourcedObject[] = [...given.objects];
  const reported: InputProblem[] = [];
  const candidates: InputFile[] = [];
  for (const file of inputs) if (await mentions(file, VAP_GROUP)) candidates.push(file);
  for (const file of candidates) {
    for await (const object of objectsIn(file, reported)) {
      if (isVapObject(object.object)) found.push(object);
    }
  }
  if (found.length > 0) {
    // What the policies may look up: their params, and the Namespaces whose
    // labels namespaceSelectors match.
    const wanted = new Set(["v1/Namespace"]);
    for (const o of found) {
      const kind = paramKindOf(o.object);
      if (kind) wanted.add(kind);
    }
    for (const file of inputs) {
      for await (const object of objectsIn(file, reported)) {
        const { apiVersion, kind } = object.object;
        if (wanted.has(`${apiVersion}/${kind}`)) found.push(object);
      }
    }
  }
  const loaded = loadVapSet(placed(found));
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
