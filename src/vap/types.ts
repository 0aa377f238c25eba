import type { CelProgram, CompiledValidations } from "../cel/index.js";
import type { KubeObject } from "../engine/index.js";

export const VAP_API_VERSION = "admissionregistration.k8s.io/v1";
export const VAP_KIND = "ValidatingAdmissionPolicy";
export const BINDING_KIND = "ValidatingAdmissionPolicyBinding";

export const VALIDATION_ACTIONS = ["Deny", "Warn", "Audit"] as const;
export type ValidationAction = (typeof VALIDATION_ACTIONS)[number];

/** One rule of `resourceRules` / `excludeResourceRules`. */
export interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: "Cluster" | "Namespaced" | "*";
  resourceNames: string[];
}

/** `matchConstraints` of a policy or `matchResources` of a binding. */
export interface MatchResources {
  namespaceSelector: unknown;
  objectSelector: unknown;
  resourceRules: ResourceRule[];
  excludeResourceRules: ResourceRule[];
}

/** A ValidatingAdmissionPolicy with every expression compiled. */
export interface CompiledVap extends CompiledValidations {
  name: string;
  source: string;
  paramKind: { apiVersion: string; kind: string } | undefined;
  match: MatchResources;
  failurePolicy: "Fail" | "Ignore";
  auditAnnotations: { key: string; valueExpression: CelProgram }[];
}

export interface ParamRef {
  name: string | undefined;
  namespace: string | undefined;
  selector: unknown;
  parameterNotFoundAction: "Allow" | "Deny";
}

export interface VapBinding {
  name: string;
  source: string;
  policyName: string;
  paramRef: ParamRef | undefined;
  match: MatchResources | undefined;
  validationActions: ValidationAction[];
}

/** Everything the offline API server knows: the policies, their bindings and the other objects. */
export interface VapSet {
  policies: ReadonlyMap<string, CompiledVap>;
  bindings: readonly VapBinding[];
  /** Candidates for `params`, and Namespaces for selectors and `namespaceObject`. */
  objects: readonly KubeObject[];
}

/** What one binding decided about one object. */
export interface VapDecision {
  policy: string;
  binding: string;
  /** `deny`: a Deny action failed; `warn` and `audit` likewise; `error` was ignored by failurePolicy. */
  actions: ValidationAction[];
  message: string;
  reason: string;
}
