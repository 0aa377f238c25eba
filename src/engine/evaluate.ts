import jsonpatch from "fast-json-patch";
import { cloneData } from "./clone.js";
import type { CompiledPolicy, PolicySet } from "./compile.js";
import { controllerOf, controllerOwnerOf, copiedFromOwner } from "./controllers.js";
import { sameData } from "./equal.js";
import {
  applyExceptions,
  describeException,
  type ExceptedViolation,
  type ExceptionLookup,
  type ExceptionSource,
  exceptionWarnings,
} from "./exceptions.js";
import type { KubeObject } from "./kube.js";
import { getAt, toFieldPath } from "./paths.js";
import type { Finding, ObjectTarget } from "./policy.js";
import { matched, type PolicyResult, type RequestSkipReason, type SkipReason } from "./result.js";
import type {
  AdmissionInput,
  Mode,
  PatchOperation,
  Phase,
  ResourceRef,
  Verdict,
  Violation,
} from "./types.js";
import {
  describeResource,
  type PodTarget,
  type PodTemplateLookup,
  podTargetOf,
  resourceOf,
} from "./workloads.js";

export interface EvaluateOptions {
  mode: Mode;
  phase: Phase;
  /** PolicyExceptions in force for this request; none when absent. */
  exceptions?: ExceptionSource | undefined;
}

/** Longest value kept per audit annotation, so audit events stay small. */
const MAX_ANNOTATION_LENGTH = 1024;

/** The verdict of a request skipped whole: allowed, with no policy looked at. */
function skippedVerdict(mode: Mode, skipped: RequestSkipReason): Verdict {
  return {
    allowed: true,
    mode,
    skipped,
    results: [],
    violations: [],
    excepted: [],
    warnings: [],
    auditAnnotations: {},
    patch: [],
    mutatedBy: [],
    evaluated: [],
  };
}

/** The request's resource and the policies about its kind, or why none is looked at. */
type Screened =
  | RequestSkipReason
  | { resource: ResourceRef; candidates: readonly CompiledPolicy[] };

function screen(input: AdmissionInput, set: PolicySet): Screened {
  if (input.operation === "DELETE" || input.operation === "CONNECT") return "operation-not-judged";
  if (!input.object) return "no-object";
  const resource = resourceOf(input.object, input.namespace);
  if (resource.namespace !== undefined && set.exemptNamespace(resource.namespace)) {
    return "exempt-namespace";
  }
  const candidates = set.byKind.get(input.kind.kind) ?? set.anyKind;
  if (candidates.length === 0) return "kind-not-matched";
  return { resource, candidates };
}

/**
 * Why `evaluate` would admit this request without looking at any policy, or
 * undefined when it would look. Cheap: callers ask it before costlier work
 * (the webhook, before looking up the namespace's mode).
 */
export function requestSkip(input: AdmissionInput, set: PolicySet): RequestSkipReason | undefined {
  const screened = screen(input, set);
  return typeof screened === "string" ? screened : undefined;
}

/** What every policy's match is checked against, worked out once per request. */
interface MatchKey {
  kind: string;
  operation: AdmissionInput["operation"];
  namespace: string;
  /** `namespace/name`, as `exemptions.names` globs are written. */
  qualifiedName: string;
}

function matchKeyOf(input: AdmissionInput, resource: ResourceRef): MatchKey {
  const namespace = resource.namespace ?? "";
  return {
    kind: input.kind.kind,
    operation: input.operation,
    namespace,
    qualifiedName: `${namespace}/${resource.name}`,
  };
}

/**
 * Why the policy does not match this request's namespace or name, or
 * undefined when it does. Kind and operation are not asked here: the set's
 * `matchSkips` answered them already.
 */
function mismatch(policy: CompiledPolicy, key: MatchKey): SkipReason | undefined {
  if (policy.anyNamespaceOrName) return undefined;
  if (!policy.inNamespace(key.namespace)) return "namespace-not-matched";
  if (policy.exemptNamespace(key.namespace)) return "exempt-namespace";
  if (policy.exemptName(key.qualifiedName)) return "exempt-name";
  return undefined;
}

/** The object under evaluation, with its pod spec found once rather than per policy. */
function targetOf(fields: Omit<ObjectTarget, "pod">, set: PolicySet): ObjectTarget {
  // Field by field: a spread of `fields` costs more than the rest of this function.
  return {
    resource: fields.resource,
    object: fields.object,
    oldObject: fields.oldObject,
    operation: fields.operation,
    userInfo: fields.userInfo,
    namespaceObject: fields.namespaceObject,
    pod: podTargetOf(fields.object, fields.resource, set.podTemplate, set.images),
  };
}

/** Why the policy's hook does not run on this object, or undefined when it does. */
function hookSkip(policy: CompiledPolicy, target: ObjectTarget): SkipReason | undefined {
  if (policy.scope === "object") return undefined;
  if (!target.pod) return "no-pod-spec";
  if (policy.longRunningOnly && !target.pod.longRunning) return "not-long-running";
  return undefined;
}

const NONE: readonly never[] = Object.freeze([]);

/** Runs the policy's hook (the one its type names) against the object as it stands now. */
function runHook<T>(policy: CompiledPolicy, target: ObjectTarget): readonly T[] {
  const { hook } = policy;
  if (!hook) return NONE;
  const given = policy.scope === "object" ? target : target.pod;
  return hook(given as ObjectTarget & PodTarget, policy.parameters) as T[];
}

function describe(resource: ResourceRef, finding: Finding): string {
  const where = finding.container ? ` container "${finding.container.name}"` : "";
  return `${describeResource(resource)}${where}: ${finding.message}`;
}

function toViolation(policy: CompiledPolicy, resource: ResourceRef, finding: Finding): Violation {
  const { id, title, severity, action } = policy.declaration;
  const part = finding.part === undefined ? undefined : policy.partItems.get(finding.part);
  return {
    policy: id,
    title,
    checklist: part ?? policy.item,
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

/**
 * One validation's violations from the findings its hook returned, how many
 * findings image exemptions dropped, and whether any says the policy could
 * not judge the object.
 */
function findingsOf(
  policy: CompiledPolicy,
  resource: ResourceRef,
  found: readonly Finding[],
): { violations: Violation[]; exempted: number; error: boolean } {
  const violations: Violation[] = [];
  let exempted = 0;
  let dropped = 0;
  let error = false;
  for (const finding of found) {
    if (finding.error) error = true;
    if (finding.container && policy.exemptImage(finding.container.image)) {
      exempted++;
      continue;
    }
    if (violations.length === MAX_FINDINGS_PER_POLICY) {
      dropped++;
      continue;
    }
    violations.push(toViolation(policy, resource, finding));
  }
  if (dropped > 0) violations.push(summaryOf(policy, resource, dropped));
  return { violations, exempted, error };
}

/**
 * A mutation is all or nothing for a pod: when its policy exempts the image
 * of any container there, none of its operations apply. Pod-level defaults
 * reach every container (runAsNonRoot would stop an exempt root image), and
 * a mutation's operations may depend on each other (removing a volume and
 * its mounts), so dropping only some of them could break the pod.
 */
function exemptsAnyContainer(policy: CompiledPolicy, target: ObjectTarget): boolean {
  if (policy.declaration.exemptions.images.length === 0 || !target.pod) return false;
  return target.pod.containers.some((c) => policy.exemptImage(c.image));
}

function result(
  policy: CompiledPolicy,
  status: "fail" | "error",
  findings: readonly Violation[] = NONE,
  patch: readonly PatchOperation[] = NONE,
): PolicyResult {
  return { policy: policy.declaration.id, status, findings, patch, excepted: NONE };
}

function skipped(policy: CompiledPolicy, reason: SkipReason): PolicyResult {
  return policy.skips[reason];
}

/** What the policies before this one left: the object as mutated so far. */
interface Progress {
  /** The object as the request carries it; never modified. */
  original: KubeObject;
  target: ObjectTarget;
  /** Whether mutations run on this request: the phase asks for them and patching is safe. */
  mutate: boolean;
  /** Why mutations do not run, when they do not. */
  noMutation: SkipReason;
  validate: boolean;
  set: PolicySet;
}

function mutateOne(policy: CompiledPolicy, progress: Progress): PolicyResult {
  if (!progress.mutate) return skipped(policy, progress.noMutation);
  const { target } = progress;
  if (exemptsAnyContainer(policy, target)) return skipped(policy, "exempt-image");
  const reason = hookSkip(policy, target);
  if (reason) return skipped(policy, reason);
  const ops = runHook<PatchOperation>(policy, target);
  if (ops.length === 0) return policy.passed;
  // Copy on first write: the caller's object is never touched.
  const object = target.object === progress.original ? cloneData(target.object) : target.object;
  // Applied from a copy: the library inserts values by reference, and a later
  // operation nesting into them would silently rewrite this one.
  jsonpatch.applyPatch(object, cloneData(ops), false, true);
  progress.target = targetOf({ ...target, object }, progress.set);
  return result(policy, "fail", NONE, ops);
}
function validateOne(policy: CompiledPolicy, progress: Progress): PolicyResult {
  if (!progress.validate) return skipped(policy, "other-phase");
  const { target } = progress;
  const reason = hookSkip(policy, target);
  if (reason) return skipped(policy, reason);
  if (policy.applies) {
    const applies = policy.applies(target, policy.parameters);
    if (applies === false) return skipped(policy, "condition-not-matched");
    if (typeof applies === "string") {
      const { resource } = target;
      return result(policy, "error", [
        toViolation(policy, resource, { message: applies, path: [] }),
      ]);
    }
  }
  const found = runHook<Finding>(policy, target);
  // Most policies find nothing: their shared result, with nothing built for them.
  if (found.length === 0) return policy.passed;
  const { violations, exempted, error } = findingsOf(policy, target.resource, found);
  if (error) return result(policy, "error", violations);
  if (violations.length > 0) return result(policy, "fail", violations);
  return exempted > 0 ? skipped(policy, "exempt-image") : policy.passed;
}

/**
 * On UPDATE, violations the old object already had, unchanged, do not block:
 * otherwise a workload admitted before enforcement could never be relabelled
 * or scaled again. The message is part of the key because it carries the
 * offending value: swapping one untrusted image for another is a new violation.
 */
function markPreexisting(
  results: PolicyResult[],
  set: PolicySet,
  input: AdmissionInput,
  resource: ResourceRef,
): void {
  if (input.operation !== "UPDATE" || !input.oldObject) return;
  const { policies } = set;
  const old = targetOf(
    {
      resource,
      object: input.oldObject,
      oldObject: undefined,
      operation: "UPDATE",
      userInfo: input.userInfo,
      namespaceObject: input.namespaceObject,
    },
    set,
  );
  const key = (v: Violation) => `${v.policy}\u0000${v.path}\u0000${v.message}`;
  results.forEach((current, i) => {
    const policy = policies[i];
    if (current.status !== "fail" || current.findings.length === 0 || !policy) return;
    if (hookSkip(policy, old)) return;
    const found = runHook<Finding>(policy, old);
    const seen = new Set(findingsOf(policy, resource, found).violations.map(key));
    const findings = current.findings.map((v) =>
      v.action === "deny" && seen.has(key(v))
        ? {
            ...v,
            action: "warn" as const,
            message: `${v.message} (already present before this update)`,
          }
        : v,
    );
    results[i] = { ...current, findings };
  });
}

/**
 * An object a built-in controller writes from its owner's pod template (a
 * Deployment's new ReplicaSet, that ReplicaSet's Pods) is not denied for what
 * it copied: a policy that also covers the owner's kind judged the same
 * template when the owner was applied or updated, and denies there, where a
 * user sees it. A grandfathered workload can then still roll out and be
 * drained, while a new violation is refused on the owner's UPDATE. Policies
 * that do not cover the owner's kind keep denying the child.
 */
function markControllerCopies(
  results: PolicyResult[],
  policies: readonly CompiledPolicy[],
  input: AdmissionInput,
): void {
  const owner = controllerOwnerOf(input);
  if (!owner) return;
  results.forEach((current, i) => {
    const policy = policies[i];
    if (current.status !== "fail" || current.findings.length === 0 || !policy) return;
    if (!policy.kinds.has(owner.kind) && !policy.kinds.has("*")) return;
    if (!current.findings.some((v) => v.action === "deny")) return;
    const findings = current.findings.map((v) =>
      v.action === "deny" ? copiedFromOwner(v, owner) : v,
    );
    results[i] = { ...current, findings };
  });
}

/**
 * Moves the findings a PolicyException covers out of each failed result; a
 * result whose findings are all covered becomes `excepted`. Exceptions are
 * looked up on the object as mutated, which is what gets stored.
 */
function exceptFindings(results: PolicyResult[], lookup: ExceptionLookup | undefined): void {
  if (!lookup) return;
  results.forEach((current, i) => {
    if (current.status !== "fail" || current.findings.length === 0) return;
    const { violations, excepted } = applyExceptions(current.findings, lookup);
    if (excepted.length === 0) return;
    const status = violations.length === 0 ? "excepted" : "fail";
    results[i] = { ...current, status, findings: violations, excepted };
  });
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

/** One result per policy of the set, in its order (mutations first), then the disabled ones. */
function judgeAll(
  input: AdmissionInput,
  set: PolicySet,
  resource: ResourceRef,
  progress: Progress,
  exceptions: ExceptionSource | undefined,
): PolicyResult[] {
  const results: PolicyResult[] = [];
  const key = matchKeyOf(input, resource);
  const { policies } = set;
  const skips = (set.matchSkips.get(key.kind) ?? set.otherKindSkips)[key.operation];
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i] as CompiledPolicy;
    const notThisRequest = skips[i];
    if (notThisRequest) {
      results.push(notThisRequest);
      continue;
    }
    const reason = mismatch(policy, key);
    if (reason) results.push(skipped(policy, reason));
    else if (policy.declaration.type === "mutate") results.push(mutateOne(policy, progress));
    else results.push(validateOne(policy, progress));
  }
  markPreexisting(results, set, input, resource);
  markControllerCopies(results, set.policies, input);
  if (progress.validate) {
    const { resource: res, object } = progress.target;
    exceptFindings(results, exceptions?.(res, object));
  }
  results.push(...set.disabled);
  return results;
}

/**
 * Decides one admission request. Pure: the same input and policy set give
 * the same verdict, and nothing outside the return value changes.
 */
export function evaluate(input: AdmissionInput, set: PolicySet, options: EvaluateOptions): Verdict {
  const { mode, phase } = options;
  const screened = screen(input, set);
  if (typeof screened === "string") return skippedVerdict(mode, screened);
  const { resource } = screened;
  const original = input.object as KubeObject;
  // In enforce mode the validate phase sees an object the mutating webhook
  // already patched; warn and audit have no mutating webhook, so they
  // simulate it even when only validating. Warn and audit never change
  // objects, but judge them as enforce would after its patches, so that they
  // predict enforce rather than list what the mutations would fix anyway.
  const simulate = phase !== "validate" || mode !== "enforce";
  const progress: Progress = {
    original,
    target: targetOf(
      {
        resource,
        object: original,
        oldObject: input.oldObject,
        operation: input.operation,
        userInfo: input.userInfo,
        namespaceObject: input.namespaceObject,
      },
      set,
    ),
    mutate: simulate && mayMutate(input, resource, set.podTemplate),
    noMutation: simulate ? "not-mutable" : "other-phase",
    validate: phase !== "mutate",
    set,
  };
  return verdictOf(
    mode,
    judgeAll(input, set, resource, progress, options.exceptions),
    set.sameFault,
  );
}

/** The verdict's summary fields, all read off the per-policy results. */
function verdictOf(mode: Mode, results: PolicyResult[], sameFault: ReadonlySet<string>): Verdict {
  const found: Violation[] = [];
  const patch: PatchOperation[] = [];
  const mutatedBy: string[] = [];
  const evaluated: string[] = [];
  const excepted: ExceptedViolation[] = [];
  for (const r of results) {
    if (matched(r)) evaluated.push(r.policy);
    // Most results have nothing to add: a spread of an empty array is not free, ~40 times a request.
    if (r.excepted.length > 0) excepted.push(...r.excepted);
    // An error counts as a violation of the policy's action: a deny policy
    // that cannot judge an object fails closed, as a VAP with failurePolicy Fail.
    if (r.status !== "fail" && r.status !== "error") continue;
    found.push(...r.findings);
    // Warn and audit only predict what enforce would patch.
    if (mode === "enforce" && r.patch.length > 0) {
      patch.push(...r.patch);
      mutatedBy.push(r.policy);
    }
  }
  const violations = oneFindingPerFault(found, sameFault);
  return {
    allowed: mode !== "enforce" || !violations.some((v) => v.action === "deny"),
    mode,
    skipped: undefined,
    results,
    violations,
    excepted,
    warnings: violations
      .filter((v) => mode === "warn" || (mode === "enforce" && v.action === "warn"))
      .sort((a, b) => ACTION_RANK[a.action] - ACTION_RANK[b.action])
      .map((v) => `${v.policy}: ${v.message}`)
      .concat(exceptionWarnings(excepted)),
    auditAnnotations: annotate(violations, excepted),
    patch,
    mutatedBy,
    evaluated,
  };
}

/**
 * One fault, one finding: when policies declared as the same fault
 * (`sameFaultAs`) both report the same field of the same container, only the
 * finding with the stronger action is kept (the first on a tie). The
 * per-policy results still record both. Linear: one map lookup per finding.
 */
function oneFindingPerFault(violations: Violation[], sameFault: ReadonlySet<string>): Violation[] {
  if (sameFault.size === 0 || violations.length < 2) return violations;
  const first = new Map<string, number>();
  const out: Violation[] = [];
  for (const v of violations) {
    const field = `${v.container ?? ""}\u0000${v.path}`;
    const at = first.get(field);
    const other = at === undefined ? undefined : out[at];
    if (at !== undefined && other && sameFault.has(`${other.policy}|${v.policy}`)) {
      if (ACTION_RANK[v.action] < ACTION_RANK[other.action]) out[at] = v;
      continue;
    }
    if (at === undefined) first.set(field, out.length);
    out.push(v);
  }
  return out;
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
function mayMutate(
  input: AdmissionInput,
  resource: ResourceRef,
  podTemplates: PodTemplateLookup,
): boolean {
  const meta = input.object?.metadata;
  if (meta?.deletionTimestamp) return false;
  if (resource.kind === "ReplicaSet" && controllerOf(input.object)) return false;
  if (input.operation !== "UPDATE") return true;
  if (IMMUTABLE_TEMPLATE.has(resource.kind)) return false;
  const template = podTemplates(resource.apiVersion, resource.kind);
  return (
    template === undefined ||
    !sameData(getAt(input.object, template), getAt(input.oldObject, template))
  );
}
