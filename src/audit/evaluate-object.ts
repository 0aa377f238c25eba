import {
  type ChecklistRef,
  describeResource,
  type ExceptionSource,
  evaluate,
  inputFromObject,
  itemRef,
  type KubeObject,
  type PatchOperation,
  type PolicyDeclaration,
  type PolicyResult,
  type PolicySet,
  parsePointer,
  toFieldPath,
  type Verdict,
  type Violation,
} from "../engine/index.js";
import { expiresSoon } from "./exceptions.js";
import type { AuditFinding, AuditResourceRef } from "./types.js";

/** What the engine made of one object: each policy's result, and the findings. */
export interface ObjectEvaluation {
  results: readonly PolicyResult[];
  findings: AuditFinding[];
}

/** A patch path as segments, digits read as list indices (this is only for display). */
function segmentsOf(pointer: string): (string | number)[] {
  return (parsePointer(pointer) ?? [pointer]).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `add spec.template.spec.automountServiceAccountToken = false` */
export function describePatch(ops: readonly PatchOperation[]): string {
  return ops
    .map((op) => {
      const path = toFieldPath(segmentsOf(op.path)) || "/";
      if (op.op === "remove") return `remove ${path}`;
      let value = JSON.stringify(op.value) ?? "null";
      if (value.length > 80) value = `${value.slice(0, 79)}…`;
      return `${op.op} ${path} = ${value}`;
    })
    .join("; ");
}

/** One violation as a finding with the given PolicyReport result. */
function findingOf(
  v: Violation,
  ref: AuditResourceRef,
  result: AuditFinding["result"],
): AuditFinding {
  return {
    source: "policy",
    policy: v.policy,
    title: v.title,
    checklist: v.checklist,
    severity: v.severity,
    action: v.action,
    result,
    message: v.message,
    resource: ref,
    path: v.path || undefined,
    container: v.container,
    scope: "namespace",
  };
}

function violationFindings(verdict: Verdict, ref: AuditResourceRef): AuditFinding[] {
  // A policy that could not judge the object reports `error`, whatever its action.
  const errored = new Set(verdict.results.filter((r) => r.status === "error").map((r) => r.policy));
  return verdict.violations.map((v) =>
    findingOf(v, ref, errored.has(v.policy) ? "error" : v.action === "deny" ? "fail" : "warn"),
  );
}

/**
 * The findings a PolicyException covers: result `skip`, naming the
 * exception, and flagged when it ends within 14 days of `now`.
 */
function exceptedFindings(verdict: Verdict, ref: AuditResourceRef, now: number): AuditFinding[] {
  return verdict.results.flatMap((r) =>
    r.excepted.map(({ exception, ...v }): AuditFinding => {
      const expiresAt = exception.expires === undefined ? undefined : Date.parse(exception.expires);
      return {
        ...findingOf(v, ref, "skip"),
        message: `${v.message} (excepted by ${exception.namespace}/${exception.name}: ${exception.reason})`,
        exception: {
          namespace: exception.namespace,
          name: exception.name,
          expires: exception.expires,
          reason: exception.reason,
          expiresSoon: expiresSoon(expiresAt, now),
        },
      };
    }),
  );
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
    // A mutation's patch is about its first item: no mutation has parts.
    checklist: itemRef(declaration.checklist[0] as ChecklistRef),
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
 * enforce mode, with the PolicyExceptions admission would honour, and turns
 * its per-policy results into findings: one per violation (a `skip` one per
 * finding an exception covers) and one per mutation that would change the
 * object, with that mutation's own operations.
 */
export class ObjectEvaluator {
  constructor(
    private readonly set: PolicySet,
    private readonly declarations: ReadonlyMap<string, PolicyDeclaration>,
    /** The PolicyExceptions in force, judged at `now` (ms), as admission would. */
    private readonly exceptions: ExceptionSource | undefined = undefined,
    private readonly now = 0,
  ) {}

  evaluate(object: KubeObject, ref: AuditResourceRef): ObjectEvaluation {
    const verdict = evaluate(inputFromObject(object), this.set, {
      mode: "enforce",
      phase: "both",
      exceptions: this.exceptions,
    });
    const findings = violationFindings(verdict, ref);
    findings.push(...exceptedFindings(verdict, ref, this.now));
    for (const result of verdict.results) {
      const declaration = this.declarations.get(result.policy);
      if (result.status !== "fail" || result.patch.length === 0 || !declaration) continue;
      findings.push(mutationFinding(declaration, ref, [...result.patch]));
    }
    return { results: verdict.results, findings };
  }
}
