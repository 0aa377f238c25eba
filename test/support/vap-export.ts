// What both proofs of `tollgate policies -o vap` need (test/vap/export.test.ts
// offline, test/e2e/vap-export.test.ts against the API server): the VAPs of
// the default policy set, and the engine's verdict, policy by policy, on an
// object as the enforce webhook would send it.
import {
  type AdmissionInput,
  compilePolicySet,
  evaluate,
  inputFromObject,
  type KubeObject,
  type PolicySet,
} from "../../src/engine/index.js";
import { loadPolicySetFile, type ResolvedPolicySet } from "../../src/policyset/index.js";
import { ENFORCED_RESOURCES, exportVaps, type VapExport } from "../../src/vap/export.js";
import { readVapForm } from "../../src/vap/forms.js";
import { shippedPolicies } from "./policies.js";

const REPO = new URL("../../", import.meta.url);

export function resolvedOf(config?: string): ResolvedPolicySet {
  return loadPolicySetFile(shippedPolicies(), config ? new URL(config, REPO).pathname : undefined);
}

export function exportOf(resolved: ResolvedPolicySet): VapExport {
  return exportVaps(resolved, (p) => readVapForm(p.file));
}

/** The VAP and Binding `tollgate policies -o vap` writes for one policy. */
export function objectsOfPolicy(exported: VapExport, id: string): KubeObject[] {
  return exported.objects.filter(
    (o) => (o.metadata?.labels as Record<string, string>)?.["tollgate.dev/policy"] === id,
  );
}

/** The engine's verdict, behind the enforce webhook, for each exported policy on its own. */
export class EngineJudge {
  private readonly sets = new Map<string, PolicySet>();
  /** Kinds the enforce webhook sends Tollgate; in a cluster the engine judges nothing else. */
  readonly sent: ReadonlySet<string>;

  constructor(resolved: ResolvedPolicySet, ids: readonly string[]) {
    for (const id of ids) {
      this.sets.set(
        id,
        compilePolicySet(
          resolved.policies.filter((p) => p.declaration.id === id),
          resolved.settings.exemptNamespaces,
          resolved.workloadKinds,
        ),
      );
    }
    this.sent = new Set([
      ...Object.keys(ENFORCED_RESOURCES),
      ...resolved.workloadKinds.map((w) => w.kind),
    ]);
  }

  /** The request the webhook would get for creating `written` in `namespace` as `username`. */
  static input(written: KubeObject, namespace: string, username: string): AdmissionInput {
    const input = inputFromObject(written, { namespace });
    input.userInfo = { username, groups: ["system:authenticated"] };
    return input;
  }

  denies(id: string, input: AdmissionInput): boolean {
    const set = this.sets.get(id);
    if (!set) throw new Error(`${id} is not exported`);
    if (!this.sent.has(input.kind.kind)) return false;
    return !evaluate(input, set, { mode: "enforce", phase: "validate" }).allowed;
  }
}
