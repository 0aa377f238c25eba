import {
  compilePolicySet,
  evaluate,
  inputFromObject,
  type KubeObject,
  type PatchOperation,
  type PolicyDeclaration,
  type PolicySet,
  toFieldPath,
  type Verdict,
} from "../engine/index.js";
import { describeResource } from "./resource-ref.js";
import type { AuditFinding, AuditResourceRef } from "./types.js";

/** What the engine made of one object: the policies that applied, and the findings. */
export interface ObjectEvaluation {
  evaluated: string[];
  findings: AuditFinding[];
}

function pointerToPath(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `add spec.template.spec.automountServiceAccountToken = false` */
export function describePatch(ops: readonly PatchOperation[]): string {
  return ops
    .map((op) => {
      const path = toFieldPath(pointerToPath(op.path)) || "/";
      if (op.op === "remove") return `remove ${path}`;
      let value = JSON.stringify(op.value) ?? "null";
      if (value.length > 80) value = `${value.slice(0, 79)}…`;
      return `${op.op} ${path} = ${value}`;
    })
    .join("; ");
}

function violationFindings(verdict: Verdict, ref: AuditResourceRef): AuditFinding[] {
  return verdict.violations.map((v) => ({
    source: "policy",
    policy: v.policy,
    title: v.title,
    checklist: v.checklist,
    severity: v.severity,
    action: v.action,
    result: v.action === "deny" ? "fail" : "warn",
    message: v.message,
    resource: ref,
    path: v.path || undefined,
    container: v.container,
    scope: "namespace",
  }));
}

function mutationFinding(
  declaration: PolicyDeclaration,
  ref: AuditResourceRef,
  patch: PatchOperation[],
): AuditFinding {
  const id = declaration.id;
  return {
    source: "policy",
    policy: id,
    title: declaration.title,
    checklist: declaration.checklist,
    severity: declaration.severity,
    action: "patch",
    result: "warn",
    message:
      `${describeResource(ref)}: would be changed by ${id} on admission (${describePatch(patch)}); ` +
      "set this in the manifest so the stored object complies",
    resource: ref,
    patch,
    scope: "namespace",
  };
}

/**
 * Runs the engine on stored objects exactly as on an admission CREATE in
 * enforce mode, and turns each verdict into findings: one per violation and
 * one per mutation that would change the object.
 */
export class ObjectEvaluator {
  // One-policy sets, built on first use, to tell apart what each mutation changes.
  private readonly single = new Map<string, PolicySet>();

  constructor(
    private readonly set: PolicySet,
    private readonly declarations: ReadonlyMap<string, PolicyDeclaration>,
  ) {}

  evaluate(object: KubeObject, ref: AuditResourceRef): ObjectEvaluation {
    const verdict = evaluate(inputFromObject(object), this.set, {
      mode: "enforce",
      phase: "both",
    });
    const findings = violationFindings(verdict, ref);
    for (const id of verdict.mutatedBy) {
      const declaration = this.declarations.get(id);
      if (!declaration) continue;
      findings.push(mutationFinding(declaration, ref, this.patchOf(id, object, verdict)));
    }
    return { evaluated: verdict.evaluated, findings };
  }

  /** Mutation `id`'s own operations, against the object as stored. */
  private patchOf(id: string, object: KubeObject, verdict: Verdict): PatchOperation[] {
    if (verdict.mutatedBy.length === 1) return verdict.patch;
    return this.ownPatch(id, object) ?? verdict.patch;
  }

  private ownPatch(id: string, object: KubeObject): PatchOperation[] | undefined {
    let one = this.single.get(id);
    if (!one) {
      const policy = this.set.policies.find((p) => p.declaration.id === id);
      if (!policy) return undefined;
      one = compilePolicySet([policy], []);
      this.single.set(id, one);
    }
    return evaluate(inputFromObject(object), one, { mode: "enforce", phase: "mutate" }).patch;
  }
}
