// Reads ValidatingAdmissionPolicy and Binding objects found among the inputs
// and compiles their expressions once. A broken one becomes a problem naming
// where it is; the others still run.
import type { Environment } from "@marcbachmann/cel-js";
import { z } from "zod";
import {
  CelCompileError,
  type CelOrigin,
  compileCel,
  compileValidations,
  createCelEnvironment,
} from "../cel/index.js";
import type { KubeObject } from "../engine/index.js";
import { fieldOf } from "../policyset/errors.js";
import {
  BINDING_KIND,
  type CompiledVap,
  type MatchResources,
  VALIDATION_ACTIONS,
  VAP_API_VERSION,
  VAP_KIND,
  type VapBinding,
  type VapSet,
} from "./types.js";

const strings = z.array(z.string()).default([]);
const rule = z.object({
  apiGroups: strings,
  apiVersions: strings,
  resources: strings,
  operations: strings,
  scope: z.enum(["Cluster", "Namespaced", "*"]).default("*"),
  resourceNames: strings,
});
const matchResources = z.object({
  namespaceSelector: z.unknown().optional(),
  objectSelector: z.unknown().optional(),
  resourceRules: z.array(rule).default([]),
  excludeResourceRules: z.array(rule).default([]),
});
const named = z.object({ name: z.string().min(1), expression: z.string().min(1) });

const policySchema = z.object({
  metadata: z.object({ name: z.string().min(1) }),
  spec: z.object({
    paramKind: z.object({ apiVersion: z.string().min(1), kind: z.string().min(1) }).optional(),
    matchConstraints: matchResources,
    failurePolicy: z.enum(["Fail", "Ignore"]).default("Fail"),
    matchConditions: z.array(named).default([]),
    variables: z.array(named).default([]),
    validations: z
      .array(
        z.object({
          expression: z.string().min(1),
          message: z.string().optional(),
          messageExpression: z.string().optional(),
          reason: z.string().optional(),
        }),
      )
      .default([]),
    auditAnnotations: z
      .array(z.object({ key: z.string().min(1), valueExpression: z.string().min(1) }))
      .default([]),
  }),
});

const bindingSchema = z.object({
  metadata: z.object({ name: z.string().min(1) }),
  spec: z.object({
    policyName: z.string().min(1),
    paramRef: z
      .object({
        name: z.string().optional(),
        namespace: z.string().optional(),
        selector: z.unknown().optional(),
        parameterNotFoundAction: z.enum(["Allow", "Deny"]).default("Deny"),
      })
      .optional(),
    matchResources: matchResources.optional(),
    validationActions: z.array(z.enum(VALIDATION_ACTIONS)).min(1),
  }),
});

/** An object of the inputs with where it was found. */
export interface PlacedObject {
  object: KubeObject;
  /** `file: document N`, for messages. */
  where: string;
}

export interface VapLoadProblem {
  where: string;
  message: string;
}

export function isVapObject(object: KubeObject): boolean {
  return (
    object.apiVersion === VAP_API_VERSION &&
    (object.kind === VAP_KIND || object.kind === BINDING_KIND)
  );
}

function parse<T>(schema: z.ZodType<T>, object: KubeObject, where: string): T {
  const result = schema.safeParse(object);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new VapError(
    where,
    `${fieldOf(issue?.path ?? []) || "(top level)"}: ${issue?.message ?? "invalid"}`,
  );
}

class VapError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

function toMatch(raw: z.infer<typeof matchResources>): MatchResources {
  return {
    namespaceSelector: raw.namespaceSelector ?? {},
    objectSelector: raw.objectSelector ?? {},
    resourceRules: raw.resourceRules,
    excludeResourceRules: raw.excludeResourceRules,
  };
}

function compilePolicy(env: Environment, object: KubeObject, where: string): CompiledVap {
  const { metadata, spec } = parse(policySchema, object, where);
  const origin = (field: string): CelOrigin => ({
    file: where,
    policy: metadata.name,
    field: `spec.${field}`,
  });
  return {
    name: metadata.name,
    source: where,
    paramKind: spec.paramKind,
    match: toMatch(spec.matchConstraints),
    failurePolicy: spec.failurePolicy,
    ...compileValidations(env, spec, origin),
    auditAnnotations: spec.auditAnnotations.map((a, i) => ({
      key: a.key,
      valueExpression: compileCel(
        env,
        a.valueExpression,
        origin(`auditAnnotations[${i}].valueExpression`),
        "string",
      ),
    })),
  };
}

function readBinding(object: KubeObject, where: string): VapBinding {
  const { metadata, spec } = parse(bindingSchema, object, where);
  return {
    name: metadata.name,
    source: where,
    policyName: spec.policyName,
    paramRef: spec.paramRef && {
      name: spec.paramRef.name,
      namespace: spec.paramRef.namespace,
      selector: spec.paramRef.selector,
      parameterNotFoundAction: spec.paramRef.parameterNotFoundAction,
    },
    match: spec.matchResources && toMatch(spec.matchResources),
    validationActions: [...new Set(spec.validationActions)],
  };
}

/**
 * Splits the inputs into policies, bindings and the rest. Every object stays
 * available as a params or Namespace candidate, as it would in a cluster.
 */
export function loadVapSet(inputs: readonly PlacedObject[]): {
  set: VapSet;
  problems: VapLoadProblem[];
} {
  const env = createCelEnvironment();
  const policies = new Map<string, CompiledVap>();
  const bindings: VapBinding[] = [];
  const problems: VapLoadProblem[] = [];
  for (const { object, where } of inputs) {
    if (!isVapObject(object)) continue;
    try {
      if (object.kind === VAP_KIND) {
        const policy = compilePolicy(env, object, where);
        policies.set(policy.name, policy);
      } else {
        bindings.push(readBinding(object, where));
      }
    } catch (error) {
      if (error instanceof VapError) problems.push({ where: error.where, message: error.problem });
      else if (error instanceof CelCompileError)
        problems.push({ where, message: error.message.slice(where.length + 2) });
      else throw error;
    }
  }
  bindings.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { set: { policies, bindings, objects: inputs.map((i) => i.object) }, problems };
}
