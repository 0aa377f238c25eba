// The validating half of a ValidatingAdmissionPolicy, shared by the offline
// VAPs of `tollgate test` (src/vap) and the PolicySet's own CEL policies
// (src/policyset/cel-policies.ts): matchConditions, variables and
// validations, compiled once and run as the API server runs them.
import type { Environment } from "@marcbachmann/cel-js";
import { type CelOrigin, type CelProgram, type CelResult, compileCel } from "./program.js";
import { describeCel } from "./values.js";

export interface NamedExpression {
  name: string;
  expression: string;
}

export interface ValidationSource {
  expression: string;
  message?: string | undefined;
  messageExpression?: string | undefined;
  reason?: string | undefined;
}

/** The expressions as written, before compiling. */
export interface ValidationsSource {
  matchConditions: readonly NamedExpression[];
  variables: readonly NamedExpression[];
  validations: readonly ValidationSource[];
}

export interface CompiledValidation {
  expression: CelProgram;
  message: string | undefined;
  messageExpression: CelProgram | undefined;
  reason: string;
}

export interface CompiledValidations {
  matchConditions: { name: string; expression: CelProgram }[];
  variables: { name: string; expression: CelProgram }[];
  validations: CompiledValidation[];
}

/**
 * Compiles every expression; throws CelCompileError for the first that does
 * not compile. `origin(field)` says where a field was written, for messages.
 */
export function compileValidations(
  env: Environment,
  source: ValidationsSource,
  origin: (field: string) => CelOrigin,
): CompiledValidations {
  const compile = (expression: string, field: string, expected: "bool" | "string" | "any") =>
    compileCel(env, expression, origin(field), expected);
  return {
    matchConditions: source.matchConditions.map((c, i) => ({
      name: c.name,
      expression: compile(c.expression, `matchConditions[${i}].expression`, "bool"),
    })),
    variables: source.variables.map((v, i) => ({
      name: v.name,
      expression: compile(v.expression, `variables[${i}].expression`, "any"),
    })),
    validations: source.validations.map((v, i) => ({
      expression: compile(v.expression, `validations[${i}].expression`, "bool"),
      message: v.message,
      messageExpression:
        v.messageExpression === undefined
          ? undefined
          : compile(v.messageExpression, `validations[${i}].messageExpression`, "string"),
      reason: v.reason ?? "Invalid",
    })),
  };
}

/** What every expression sees of one request, built once per request. */
export interface ActivationBase {
  object: unknown;
  oldObject: unknown;
  request: unknown;
  namespaceObject: unknown;
}

/** The `variables` of a block that declares none: shared, never written. */
const NO_VARIABLES: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The activation with `variables`, each computed on first use, as the API
 * server does, so an unused variable that fails does not matter. A block
 * without variables (most CEL policies) gets `base` itself with shared empty
 * variables when `base` already has them, so nothing is allocated per run.
 */
export function withVariables(
  compiled: CompiledValidations,
  base: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  if (compiled.variables.length === 0) {
    return base.variables === NO_VARIABLES ? base : { ...base, variables: NO_VARIABLES };
  }
  const variables: Record<string, unknown> = {};
  const activation = { ...base, variables };
  for (const { name, expression } of compiled.variables) {
    let cached: CelResult | undefined;
    Object.defineProperty(variables, name, {
      enumerable: true,
      get() {
        cached ??= expression.run(activation);
        if (!cached.ok) throw new Error(`variable ${name}: ${cached.error}`);
        return cached.value;
      },
    });
  }
  return activation;
}

/**
 * The activation of one run, built as one object literal of a fixed shape
 * (cheaper than spreading `base`), with shared empty `variables` that
 * `withVariables` replaces when the block declares any.
 */
export function activationOf(
  base: ActivationBase,
  params: unknown,
): Readonly<Record<string, unknown>> {
  return {
    object: base.object,
    oldObject: base.oldObject,
    request: base.request,
    namespaceObject: base.namespaceObject,
    params,
    variables: NO_VARIABLES,
  };
}

/** The API server's wording for an expression that could not be evaluated. */
export function evaluationError(program: CelProgram, error: string): string {
  return `expression '${program.expression}' resulted in error: ${error}`;
}

/** One validation that did not hold: it returned false, or (`error`) it could not be evaluated. */
export interface Failure {
  message: string;
  reason: string;
  error: boolean;
}

/**
 * What the block decided about one activation:
 * - `not-matched`: a matchCondition is false, so the validations do not apply;
 * - `undecided`: no matchCondition is false but one failed to evaluate;
 * - `checked`: the failures of the validations, in their order (none: all hold).
 */
export type ValidationOutcome =
  | { kind: "not-matched" }
  | { kind: "undecided"; error: string }
  | { kind: "checked"; failures: Failure[] };

/** Runs matchConditions, then every validation. Never throws; the caller applies failurePolicy. */
export function runValidations(
  compiled: CompiledValidations,
  base: Readonly<Record<string, unknown>>,
): ValidationOutcome {
  const activation = withVariables(compiled, base);
  let undecided: string | undefined;
  for (const condition of compiled.matchConditions) {
    const result = condition.expression.run(activation);
    if (result.ok && result.value === false) return { kind: "not-matched" };
    if (!result.ok) undecided ??= evaluationError(condition.expression, result.error);
  }
  if (undecided !== undefined) return { kind: "undecided", error: undecided };
  const failures: Failure[] = [];
  for (const v of compiled.validations) {
    const result = v.expression.run(activation);
    if (!result.ok) {
      failures.push({
        message: evaluationError(v.expression, result.error),
        reason: "Invalid",
        error: true,
      });
    } else if (result.value !== true) {
      failures.push({ message: messageOf(v, activation), reason: v.reason, error: false });
    }
  }
  return { kind: "checked", failures };
}

/** `messageExpression` when it yields one non-empty line, else `message`, else the expression. */
function messageOf(v: CompiledValidation, activation: Readonly<Record<string, unknown>>): string {
  if (v.messageExpression) {
    const result = v.messageExpression.run(activation);
    if (result.ok) {
      const text = describeCel(result.value);
      if (text.trim() !== "" && !text.includes("\n")) return text;
    }
  }
  return v.message ?? `failed expression: ${v.expression.expression}`;
}
