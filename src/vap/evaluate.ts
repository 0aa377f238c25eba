// Evaluates the ValidatingAdmissionPolicies of a VapSet against one object, as
// the API server would on CREATE: match, params, matchConditions, variables,
// validations, failurePolicy and the binding's validationActions.
import { runValidations, toCel } from "../cel/index.js";
import { groupVersionKindOf, type KubeObject, selectorMatches } from "../engine/index.js";
import { matchesResources, type RequestFacts, resourceOfKind } from "./match.js";
import type { CompiledVap, VapBinding, VapDecision, VapSet } from "./types.js";

export interface VapRequest {
  object: KubeObject;
  oldObject: KubeObject | undefined;
  operation: "CREATE" | "UPDATE";
  namespace: string | undefined;
  clusterScoped: boolean;
  userInfo?: { username?: string; groups?: string[] } | undefined;
}

const NAME_LABEL = "kubernetes.io/metadata.name";

function labelsOf(object: KubeObject | undefined): Record<string, string> {
  const labels = object?.metadata?.labels;
  return labels && typeof labels === "object" ? { ...labels } : {};
}

/**
 * Namespace `name` as the API server would hold it, from the Namespace objects
 * among `objects` (a bare one when none is given: the object's namespace
 * exists if the object does), with the name label the API server always sets.
 */
export function namespaceObjectAmong(objects: readonly KubeObject[], name: string): KubeObject {
  const found = objects.find(
    (o) => o.apiVersion === "v1" && o.kind === "Namespace" && o.metadata?.name === name,
  );
  const base: KubeObject = found ?? { apiVersion: "v1", kind: "Namespace", metadata: { name } };
  return {
    ...base,
    metadata: { ...base.metadata, labels: { ...labelsOf(base), [NAME_LABEL]: name } },
  };
}

interface Context {
  facts: RequestFacts;
  namespaceObject: KubeObject | undefined;
  activation: Record<string, unknown>;
}

function contextOf(set: VapSet, req: VapRequest): Context {
  const gvk = groupVersionKindOf(req.object);
  const name = req.object.metadata?.name ?? "";
  const namespaceObject =
    req.namespace !== undefined && !req.clusterScoped
      ? namespaceObjectAmong(set.objects, req.namespace)
      : undefined;
  const ownNamespace =
    req.object.kind === "Namespace" && gvk.group === ""
      ? namespaceObjectAmong(set.objects, name)
      : undefined;
  const resource = resourceOfKind(gvk.kind);
  const facts: RequestFacts = {
    group: gvk.group,
    version: gvk.version,
    resource,
    operation: req.operation,
    name,
    namespace: req.namespace,
    clusterScoped: req.clusterScoped,
    objectLabels: labelsOf(req.object),
    namespaceLabels: ownNamespace
      ? labelsOf(ownNamespace)
      : namespaceObject
        ? labelsOf(namespaceObject)
        : undefined,
  };
  const request = {
    kind: { group: gvk.group, version: gvk.version, kind: gvk.kind },
    resource: { group: gvk.group, version: gvk.version, resource },
    requestKind: { group: gvk.group, version: gvk.version, kind: gvk.kind },
    requestResource: { group: gvk.group, version: gvk.version, resource },
    name,
    ...(req.namespace !== undefined && !req.clusterScoped ? { namespace: req.namespace } : {}),
    operation: req.operation,
    userInfo: req.userInfo ?? {},
    dryRun: true,
  };
  return {
    facts,
    namespaceObject,
    activation: {
      object: toCel(req.object),
      oldObject: req.oldObject ? toCel(req.oldObject) : null,
      request: toCel(request),
      namespaceObject: namespaceObject ? toCel(namespaceObject) : null,
    },
  };
}

function paramsFor(
  set: VapSet,
  policy: CompiledVap,
  binding: VapBinding,
  facts: RequestFacts,
): KubeObject[] {
  const kind = policy.paramKind;
  const ref = binding.paramRef;
  if (!kind || !ref) return [];
  const namespace = ref.namespace ?? (facts.clusterScoped ? undefined : facts.namespace);
  return set.objects.filter((o) => {
    if (o.apiVersion !== kind.apiVersion || o.kind !== kind.kind) return false;
    if (namespace !== undefined && (o.metadata?.namespace ?? "default") !== namespace) return false;
    if (ref.name !== undefined) return o.metadata?.name === ref.name;
    return selectorMatches(ref.selector ?? {}, labelsOf(o));
  });
}

/** Failures of one binding and one params object, before validationActions apply. */
function validate(
  policy: CompiledVap,
  activation: Record<string, unknown>,
): { message: string; reason: string }[] {
  const outcome = runValidations(policy, activation);
  const fail = policy.failurePolicy === "Fail";
  switch (outcome.kind) {
    case "not-matched":
      return [];
    case "undecided":
      return fail ? [{ message: outcome.error, reason: "Invalid" }] : [];
    case "checked":
      return outcome.failures.filter((f) => fail || !f.error);
  }
}

function decide(set: VapSet, binding: VapBinding, context: Context): VapDecision[] {
  const policy = set.policies.get(binding.policyName);
  if (!policy) return [];
  const { facts } = context;
  if (!matchesResources(policy.match, facts, true)) return [];
  if (binding.match && !matchesResources(binding.match, facts, false)) return [];
  const decision = (message: string, reason: string): VapDecision => ({
    policy: policy.name,
    binding: binding.name,
    actions: binding.validationActions,
    message,
    reason,
  });
  if (!policy.paramKind) {
    return validate(policy, { ...context.activation, params: null }).map((f) =>
      decision(f.message, f.reason),
    );
  }
  // A binding without paramRef validates with null params, as the API server does.
  const params = binding.paramRef ? paramsFor(set, policy, binding, facts) : [null];
  if (params.length === 0 && binding.paramRef?.parameterNotFoundAction === "Deny") {
    // A configuration error: failurePolicy decides, and Fail denies whatever the binding's actions.
    if (policy.failurePolicy === "Ignore") return [];
    const message =
      "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction";
    return [{ ...decision(message, "Invalid"), actions: ["Deny"] }];
  }
  return params.flatMap((param) =>
    validate(policy, { ...context.activation, params: toCel(param) }).map((f) =>
      decision(f.message, f.reason),
    ),
  );
}

/** Every failed validation of every binding that applies, in binding name order. */
export function evaluateVaps(set: VapSet, req: VapRequest): VapDecision[] {
  if (set.bindings.length === 0) return [];
  const context = contextOf(set, req);
  return set.bindings.flatMap((binding) => decide(set, binding, context));
}

/** The denial text the API server returns for a decision with the Deny action. */
export function denialText(d: VapDecision): string {
  return `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}' denied request: ${d.message}`;
}

/** The warning the API server returns for a decision with the Warn action. */
export function warningText(d: VapDecision): string {
  return `Validation failed for ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}': ${d.message}`;
}
