import jsonpatch from "fast-json-patch";
import { cloneData } from "./clone.js";
import type { CompiledPolicy, PolicySet } from "./compile.js";
import { sameData } from "./equal.js";
import {
  applyExceptions,
  describeException,
  type ExceptedViolation,
  type ExceptionSource,
  exceptionWarnings,
} from "./exceptions.js";
import type { KubeObject } from "./kube.js";
import { getAt, toFieldPath } from "./paths.js";
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
import { type PodTarget, podTargetOf, podTargetPath, resourceOf } from "./workloads.js";

export interface EvaluateOptions {
  mode: Mode;
  phase: Phase;
  /** PolicyExceptions in force for this request; none when absent. */
  exceptions?: ExceptionSource | undefined;
}

/** Longest value kept per audit annotation, so audit events stay small. */
const MAX_ANNOTATION_LENGTH = 1024;

function admitted(mode: Mode): Verdict {
  return {
    allowed: true,
    mode,
    violations: [],
    excepted: [],
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
      !p.exemptName(`${namespace}/${resource.name}`),
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

const NONE: readonly never[] = [];

/** Runs one policy's hook (the one its type names) against the object as it stands now. */
function runHook<T>(policy: CompiledPolicy, subject: Subject): readonly T[] {
  const { hook } = policy;
  if (!hook) return NONE;
  if (policy.scope === "object") {
    return hook(subject.target as ObjectTarget & PodTarget, policy.declaration.parameters) as T[];
  }
  const { pod } = subject;
  if (!pod || (policy.longRunningOnly && !pod.longRunning)) return NONE;
  return hook(pod as ObjectTarget & PodTarget, policy.declaration.parameters) as T[];
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

/**
 * A pod with thousands of containers would otherwise produce thousands of
 * violations: slow to describe, and far past what a denial message can show.
 */
const MAX_FINDINGS_PER_POLICY = 50;

function summaryOf(policy: CompiledPolicy, resource: ResourceRef, dropped: number): Violation {
  return toViolation(policy, resource, {
    message: `and ${dropped} more findings of this policy, not listed`,
    path: [],
  });
}

function validateAll(
  policies: CompiledPolicy[],
  target: ObjectTarget,
  subject: Subject = subjectOf(target),
): Violation[] {
  const violations: Violation[] = [];
  for (const policy of policies) {
    if (policy.declaration.type !== "validate") continue;
    let kept = 0;
    let dropped = 0;
    for (const finding of runHook<Finding>(policy, subject)) {
      if (finding.container && policy.exemptImage(finding.container.image)) continue;
      if (kept === MAX_FINDINGS_PER_POLICY) {
        dropped++;
        continue;
      }
      kept++;
      violations.push(toViolation(policy, target.resource, finding));
    }
    if (dropped > 0) violations.push(summaryOf(policy, target.resource, dropped));
  }
  return violations;
}

/**
 * A mutation is all or nothing for a pod: when its policy exempts the image
 * of any container there, none of its operations apply. Pod-level defaults
 * reach every container (runAsNonRoot would stop an exempt root image), and
 * a mutation's operations may depend on each other (removing a volume and
 * its mounts), so dropping only some of them could break the pod.
 */
function exemptsAnyContainer(policy: CompiledPolicy, subject: Subject): boolean {
  if (policy.declaration.exemptions.images.length === 0 || !subject.pod) return false;
  return subject.pod.containers.some((c) => policy.exemptImage(c.image));
}

function mutateAll(
  policies: CompiledPolicy[],
  target: ObjectTarget,
): { object: KubeObject; patch: PatchOperation[]; mutatedBy: string[]; subject: Subject } {
  let object = target.object;
  let subject = subjectOf(target);
  const patch: PatchOperation[] = [];
  const mutatedBy: string[] = [];
  for (const policy of policies) {
    if (policy.declaration.type !== "mutate") continue;
    if (exemptsAnyContainer(policy, subject)) continue;
    const ops = runHook<PatchOperation>(policy, subject);
    if (ops.length === 0) continue;
    // Copy on first write: the caller's object is never touched.
    if (object === target.object) object = cloneData(object);
    // Applied from a copy: the library inserts values by reference, and a later
    // operation nesting into them would silently rewrite this one.
    jsonpatch.applyPatch(object, cloneData(ops), false, true);
    patch.push(...ops);
    mutatedBy.push(policy.declaration.id);
    subject = subjectOf({ ...target, object });
  }
  return { object, patch, mutatedBy, subject };
}

/**
 * On UPDATE, violations the old object already had, unchanged, do not block:
 * otherwise a workload admitted before enforcement could never be relabelled
 * or scaled again. The message is part of the key because it carries the
 * offending value: swapping one untrusted image for another is a new violation.
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
  const key = (v: Violation) => `${v.policy}\u0000${v.path}\u0000${v.message}`;
  const seen = new Set(old.map(key));
  return violations.map((v) =>
    v.action === "deny" && seen.has(key(v))
      ? { ...v, action: "warn", message: `${v.message} (already present before this update)` }
      : v,
  );
}

/**
 * One annotation per policy with its violations; an excepted policy's key
 * ends in `.excepted` and its value names the exception first.
 */
function annotate(violations: Violation[], excepted: ExceptedViolation[]): Record<string, string> {
  const byPolicy: Record<string, string> = {};
  const add = (key: string, text: string) => {
    const previous = byPolicy[key];
    byPolicy[key] = previous ? `${previous}; ${text}` : text;
  };
  for (const v of violations) add(v.policy, v.message);
  for (const v of excepted) {
    const key = `${v.policy}.excepted`;
    if (byPolicy[key] === undefined) add(key, `by ${describeException(v.exception)}`);
    add(key, v.message);
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
  // The pod spec found for the last mutation is the one to validate: found once, not twice.
  let subject: Subject | undefined;
  // In enforce mode the validate phase sees an object the mutating webhook
  // already patched; warn and audit have no mutating webhook, so they
  // simulate it even when only validating.
  const simulate = phase !== "validate" || mode !== "enforce";
  if (simulate && mayMutate(input, resource)) {
    const mutated = mutateAll(policies, target);
    target.object = mutated.object;
    subject = mutated.subject;
    // Warn and audit never change objects, but judge them as enforce would
    // after its patches, so that they predict enforce rather than list what
    // the mutations would fix anyway.
    if (mode === "enforce") {
      verdict.patch = mutated.patch;
      verdict.mutatedBy = mutated.mutatedBy;
    }
  }
  if (phase === "mutate") return verdict;

  const { violations, excepted } = applyExceptions(
    markPreexisting(validateAll(policies, target, subject), policies, input, resource),
    options.exceptions?.(resource, target.object),
  );
  verdict.violations = violations;
  verdict.excepted = excepted;
  verdict.auditAnnotations = annotate(violations, excepted);
  verdict.allowed = mode !== "enforce" || !violations.some((v) => v.action === "deny");
  verdict.warnings = violations
    .filter((v) => mode === "warn" || (mode === "enforce" && v.action === "warn"))
    .sort((a, b) => ACTION_RANK[a.action] - ACTION_RANK[b.action])
    .map((v) => `${v.policy}: ${v.message}`)
    .concat(exceptionWarnings(excepted));
  return verdict;
}

/** Warnings are cut to a few by the API server; what enforce would deny comes first. */
const ACTION_RANK: Readonly<Record<Violation["action"], number>> = { deny: 0, warn: 1, audit: 2 };

/** Kinds whose pod template the API server refuses to change after creation. */
const IMMUTABLE_TEMPLATE = new Set(["Pod", "Job"]);

/**
 * Whether patching this request is safe. An object being deleted is left
 * alone (a patch could block the removal of its finalizers); a ReplicaSet a
 * Deployment owns must keep the Deployment's exact template, or the
 * controller creates new ones in a loop; on UPDATE only a changed pod
 * template is patched, so relabelling or scaling an old workload does not
 * roll out its pods, and Pods and Jobs are never patched.
 */
function mayMutate(input: AdmissionInput, resource: ResourceRef): boolean {
  const meta = input.object?.metadata;
  if (meta?.deletionTimestamp) return false;
  const owners = Array.isArray(meta?.ownerReferences) ? meta.ownerReferences : [];
  const controlled = owners.some((ref) => ref?.controller === true);
  if (resource.kind === "ReplicaSet" && controlled) return false;
  if (input.operation !== "UPDATE") return true;
  if (IMMUTABLE_TEMPLATE.has(resource.kind)) return false;
  const template = podTargetPath(resource.kind);
  return (
    template === undefined ||
    !sameData(getAt(input.object, template), getAt(input.oldObject, template))
  );
}
