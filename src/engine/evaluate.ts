import jsonpatch from "fast-json-patch";
import type { CompiledPolicy, PolicySet } from "./compile.js";
import type { KubeObject } from "./kube.js";
import { toFieldPath } from "./paths.js";
import type { Finding, ObjectTarget } from "./policy.js";
import type {
  AdmissionInput,
  Mode,
  PatchOperation,
  Phase,
  ResourceRef,
  Verdict,
  Violation,
} from "./types.js";
import { type PodTarget, podTargetOf, resourceOf } from "./workloads.js";

export interface EvaluateOptions {
  mode: Mode;
  phase: Phase;
}

/** Longest value kept per audit annotation, so audit events stay small. */
const MAX_ANNOTATION_LENGTH = 1024;

function admitted(mode: Mode): Verdict {
  return {
    allowed: true,
    mode,
    violations: [],
    warnings: [],
    auditAnnotations: {},
    patch: [],
    mutatedBy: [],
    evaluated: [],
  };
}

function applicablePolicies(
  input: AdmissionInput,
  set: PolicySet,
  resource: ResourceRef,
): CompiledPolicy[] {
  const candidates = set.byKind.get(input.kind.kind) ?? set.anyKind;
  const namespace = resource.namespace ?? "";
  return candidates.filter(
    (p) =>
      p.operations.has(input.operation) &&
      p.inNamespace(namespace) &&
      !p.exemptNamespace(namespace) &&
      !p.exemptName(resource.name),
  );
}

/** The object under evaluation, with its pod spec found once rather than per policy. */
interface Subject {
  target: ObjectTarget;
  pod: PodTarget | undefined;
}

function subjectOf(target: ObjectTarget): Subject {
  return { target, pod: podTargetOf(target.object, target.resource) };
}

/** Runs one policy's hook against the object as it stands now. */
function runHook<T>(policy: CompiledPolicy, hook: "validate" | "mutate", subject: Subject): T[] {
  const { module, declaration } = policy;
  const params = declaration.parameters;
  if (module.scope === "object") {
    const fn = module[hook] as ((t: ObjectTarget, p: unknown) => T[]) | undefined;
    return fn ? fn(subject.target, params) : [];
  }
  const { pod } = subject;
  if (!pod || (declaration.match.workloads === "long-running" && !pod.longRunning)) return [];
  const fn = module[hook] as ((t: PodTarget, p: unknown) => T[]) | undefined;
  return fn ? fn(pod, params) : [];
}

function describe(resource: ResourceRef, finding: Finding): string {
  const where = finding.container ? ` container "${finding.container.name}"` : "";
  return `${resource.kind} "${resource.name}"${where}: ${finding.message}`;
}

function toViolation(policy: CompiledPolicy, resource: ResourceRef, finding: Finding): Violation {
  const { id, title, checklist, severity, action } = policy.declaration;
  return {
    policy: id,
    title,
    checklist,
    severity,
    action,
    message: describe(resource, finding),
    path: toFieldPath(finding.path),
    resource,
    container: finding.container?.name,
  };
}

function validateAll(policies: CompiledPolicy[], target: ObjectTarget): Violation[] {
  const violations: Violation[] = [];
  const subject = subjectOf(target);
  for (const policy of policies) {
    if (policy.declaration.type !== "validate") continue;
    for (const finding of runHook<Finding>(policy, "validate", subject)) {
      if (finding.container && policy.exemptImage(finding.container.image)) continue;
      violations.push(toViolation(policy, target.resource, finding));
    }
  }
  return violations;
}

function mutateAll(
  policies: CompiledPolicy[],
  target: ObjectTarget,
): { object: KubeObject; patch: PatchOperation[]; mutatedBy: string[] } {
  let object = target.object;
  let subject = subjectOf(target);
  const patch: PatchOperation[] = [];
  const mutatedBy: string[] = [];
  for (const policy of policies) {
    if (policy.declaration.type !== "mutate") continue;
    const ops = runHook<PatchOperation>(policy, "mutate", subject);
    if (ops.length === 0) continue;
    // Copy on first write: the caller's object is never touched.
    if (object === target.object) object = structuredClone(object);
    // Applied from a copy: the library inserts values by reference, and a later
    // operation nesting into them would silently rewrite this one.
    jsonpatch.applyPatch(object, structuredClone(ops), false, true);
    patch.push(...ops);
    mutatedBy.push(policy.declaration.id);
    subject = subjectOf({ ...target, object });
  }
  return { object, patch, mutatedBy };
}

/**
 * On UPDATE, violations the old object already had do not block: otherwise a
 * workload admitted before enforcement could never be touched again, not even
 * by its own controller.
 */
function markPreexisting(
  violations: Violation[],
  policies: CompiledPolicy[],
  input: AdmissionInput,
  resource: ResourceRef,
): Violation[] {
  if (input.operation !== "UPDATE" || !input.oldObject) return violations;
  const old = validateAll(policies, {
    resource,
    object: input.oldObject,
    oldObject: undefined,
    operation: "UPDATE",
  });
  const seen = new Set(old.map((v) => `${v.policy}\u0000${v.path}`));
  return violations.map((v) =>
    v.action === "deny" && seen.has(`${v.policy}\u0000${v.path}`)
      ? { ...v, action: "warn", message: `${v.message} (already present before this update)` }
      : v,
  );
}

function annotate(violations: Violation[]): Record<string, string> {
  const byPolicy: Record<string, string> = {};
  for (const v of violations) {
    const previous = byPolicy[v.policy];
    byPolicy[v.policy] = previous ? `${previous}; ${v.message}` : v.message;
  }
  for (const [key, value] of Object.entries(byPolicy)) {
    if (value.length > MAX_ANNOTATION_LENGTH) {
      byPolicy[key] = `${value.slice(0, MAX_ANNOTATION_LENGTH - 1)}…`;
    }
  }
  return byPolicy;
}

/**
 * Decides one admission request. Pure: the same input and policy set give
 * the same verdict, and nothing outside the return value changes.
 */
export function evaluate(input: AdmissionInput, set: PolicySet, options: EvaluateOptions): Verdict {
  const { mode, phase } = options;
  const original = input.object;
  if (input.operation === "DELETE" || input.operation === "CONNECT" || !original) {
    return admitted(mode);
  }
  const resource = resourceOf(original, input.namespace);
  if (resource.namespace !== undefined && set.exemptNamespace(resource.namespace)) {
    return admitted(mode);
  }
  const policies = applicablePolicies(input, set, resource);
  const verdict = admitted(mode);
  verdict.evaluated = policies.map((p) => p.declaration.id);
  if (policies.length === 0) return verdict;

  const target: ObjectTarget = {
    resource,
    object: original,
    oldObject: input.oldObject,
    operation: input.operation,
  };
  // Pod specs are immutable after creation, so a patch on a Pod UPDATE would be rejected.
  const mayMutate =
    phase !== "validate" &&
    mode === "enforce" &&
    !(input.operation === "UPDATE" && resource.kind === "Pod");
  if (mayMutate) {
    const mutated = mutateAll(policies, target);
    target.object = mutated.object;
    verdict.patch = mutated.patch;
    verdict.mutatedBy = mutated.mutatedBy;
  }
  if (phase === "mutate") return verdict;

  const violations = markPreexisting(validateAll(policies, target), policies, input, resource);
  verdict.violations = violations;
  verdict.auditAnnotations = annotate(violations);
  verdict.allowed = mode !== "enforce" || !violations.some((v) => v.action === "deny");
  verdict.warnings = violations
    .filter((v) => mode === "warn" || (mode === "enforce" && v.action === "warn"))
    .map((v) => `${v.policy}: ${v.message}`);
  return verdict;
}
