// A platform team's own rules, written in CEL in the PolicySet (`celPolicies`)
// or in files it names (`celPolicyFiles`). Each becomes an ordinary policy: a
// declaration plus a module whose hooks run the compiled expressions, so it
// takes the engine's one path (modes, exemptions, exceptions, results,
// warnings, reports, metrics) like the built-in policies.
import type { Environment } from "@marcbachmann/cel-js";
import { z } from "zod";
import {
  type ActivationBase,
  activationOf as activationWith,
  CelCompileError,
  type CompiledValidations,
  compileValidations,
  createCelEnvironment,
  runValidations,
  toCel,
} from "../cel/index.js";
import {
  ACTIONS,
  type ChecklistMapping,
  definePolicy,
  type Finding,
  isChecklistItem,
  type ObjectTarget,
  OPERATIONS,
  type PolicyDeclaration,
  SEVERITIES,
} from "../engine/index.js";
import type { LoadedPolicy } from "./declarations.js";
import { PolicyLoadError } from "./errors.js";
import { exemptionsSchema } from "./exemptions.js";

const named = z.object({ name: z.string().min(1), expression: z.string().min(1) }).strict();

/** One CEL policy as written; the field names follow ValidatingAdmissionPolicy's. */
export const celPolicySchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lower-case words joined by hyphens"),
    title: z.string().min(1).optional(),
    description: z.string().min(1).optional(),
    checklist: z.object({ section: z.string(), item: z.string() }).strict().optional(),
    severity: z.enum(SEVERITIES).default("medium"),
    action: z.enum(ACTIONS).default("audit"),
    enabled: z.boolean().default(true),
    /** What `params` holds in the expressions. */
    parameters: z.record(z.string(), z.unknown()).default({}),
    match: z
      .object({
        kinds: z.array(z.string().min(1)).min(1),
        operations: z.array(z.enum(OPERATIONS)).min(1).default(["CREATE", "UPDATE"]),
        namespaces: z.array(z.string().min(1)).default([]),
      })
      .strict(),
    // CEL policies judge whole objects and report no container, so image
    // exemptions would have nothing to apply to.
    exemptions: exemptionsSchema.omit({ images: true }).default({ namespaces: [], names: [] }),
    matchConditions: z.array(named).default([]),
    variables: z.array(named).default([]),
    validations: z
      .array(
        z
          .object({
            expression: z.string().min(1),
            message: z.string().min(1).optional(),
            messageExpression: z.string().min(1).optional(),
            reason: z.string().min(1).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type CelPolicySource = z.infer<typeof celPolicySchema>;

/** A file `celPolicyFiles` names: a YAML list of CEL policies. */
export const celPolicyFileSchema = z.array(celPolicySchema);

/** Where a policy without a checklist item is reported; no checklist score counts it. */
export const CUSTOM_SECTION = "Custom";

function checklistOf(source: CelPolicySource, file: string, field: string): ChecklistMapping[] {
  if (!source.checklist) return [{ section: CUSTOM_SECTION, item: source.id, coverage: "full" }];
  const { section, item } = source.checklist;
  if (!isChecklistItem(section, item)) {
    throw new PolicyLoadError(
      file,
      `${field}.checklist`,
      `"${section}" / "${item}" is not an item of the AKS checklist`,
    );
  }
  return [{ section, item, coverage: "full" }];
}

const API_GROUP = /^(?:(.+)\/)?([^/]+)$/;

/**
 * `request` as a ValidatingAdmissionPolicy sees it, from what the engine
 * knows; `userInfo` is empty when the caller has no sender (files).
 */
function requestOf(target: ObjectTarget): Record<string, unknown> {
  const [, group = "", version = ""] = API_GROUP.exec(target.resource.apiVersion) ?? [];
  const kind = { group, version, kind: target.resource.kind };
  return {
    kind,
    requestKind: kind,
    name: target.resource.name,
    ...(target.resource.namespace === undefined ? {} : { namespace: target.resource.namespace }),
    operation: target.operation,
    userInfo: target.userInfo ?? {},
  };
}

/**
 * The variables every expression of one policy sees for one object. Built
 * once per object and shared by the policy set's CEL policies: converting an
 * object to CEL values costs more than most expressions. Keyed weakly on the
 * target the engine passes, which is one per evaluation and is replaced after
 * each mutation; the object alone would not do, since the same object may be
 * judged again with another sender or Namespace.
 */
function activationCache(): (target: ObjectTarget) => ActivationBase {
  const cache = new WeakMap<ObjectTarget, ActivationBase>();
  return (target) => {
    let base = cache.get(target);
    if (!base) {
      base = {
        object: toCel(target.object),
        oldObject: target.oldObject === undefined ? null : toCel(target.oldObject),
        request: toCel(requestOf(target)),
        // Given by the caller (webhook: its namespace directory; CLI: the
        // Namespace inputs); null for cluster-scoped objects, as in a VAP.
        namespaceObject:
          target.namespaceObject === undefined ? null : toCel(target.namespaceObject),
      };
      cache.set(target, base);
    }
    return base;
  };
}

function errorFinding(message: string): Finding {
  return { message: `could not be evaluated: ${message}`, path: [], error: true };
}

function moduleOf(
  id: string,
  compiled: CompiledValidations,
  params: unknown,
  activationOf: (target: ObjectTarget) => ActivationBase,
) {
  const celParams = toCel(params);
  // matchConditions run in `applies` and again in `validate`, which keeps the
  // engine's contract (applies, then validate) without state between calls;
  // they are cheap next to building the activation, which is shared.
  const outcome = (target: ObjectTarget) =>
    runValidations(compiled, activationWith(activationOf(target), celParams));
  return definePolicy({
    id,
    scope: "object",
    parameters: z.record(z.string(), z.unknown()),
    applies: (target) => {
      if (compiled.matchConditions.length === 0) return true;
      const result = outcome(target);
      if (result.kind === "not-matched") return false;
      return result.kind === "undecided" ? `could not be evaluated: ${result.error}` : true;
    },
    validate: (target): Finding[] => {
      const result = outcome(target);
      if (result.kind === "not-matched") return [];
      if (result.kind === "undecided") return [errorFinding(result.error)];
      return result.failures.map((f) =>
        f.error ? errorFinding(f.message) : { message: f.message, path: [] },
      );
    },
  });
}

function compileOne(
  env: Environment,
  source: CelPolicySource,
  file: string,
  field: string,
  activationOf: (target: ObjectTarget) => ActivationBase,
): LoadedPolicy {
  let compiled: CompiledValidations;
  try {
    compiled = compileValidations(env, source, (f) => ({ file, policy: source.id, field: f }));
  } catch (error) {
    if (!(error instanceof CelCompileError)) throw error;
    throw new PolicyLoadError(
      file,
      `${field}.${error.origin.field}`,
      `policy ${source.id}: ${error.problem} at line ${error.line}, column ${error.column} of ${JSON.stringify(error.expression)}`,
    );
  }
  const declaration: PolicyDeclaration = {
    id: source.id,
    title: source.title ?? source.id,
    description: source.description ?? "A custom CEL policy of the PolicySet.",
    checklist: checklistOf(source, file, field),
    severity: source.severity,
    type: "validate",
    action: source.action,
    enabled: source.enabled,
    parameters: source.parameters,
    match: { ...source.match, workloads: "all" },
    exemptions: { ...source.exemptions, images: [] },
    sameFaultAs: [],
  };
  return {
    module: moduleOf(source.id, compiled, source.parameters, activationOf),
    declaration,
    file,
    cel: source,
  };
}

/** CEL policies with the file and field each was written at. */
export interface PlacedCelPolicies {
  file: string;
  /** e.g. `celPolicies` or `` (a file of its own, which is a list). */
  field: string;
  policies: readonly CelPolicySource[];
}

/**
 * Compiles every CEL policy once, in one environment; fails on the first
 * expression that does not compile, naming file, field, policy, position
 * and the expression.
 */
export function compileCelPolicies(groups: readonly PlacedCelPolicies[]): LoadedPolicy[] {
  if (groups.every((g) => g.policies.length === 0)) return [];
  const env = createCelEnvironment();
  const activationOf = activationCache();
  return groups.flatMap(({ file, field, policies }) =>
    policies.map((source, i) => compileOne(env, source, file, `${field}[${i}]`, activationOf)),
  );
}
