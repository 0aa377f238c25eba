import { Environment } from "@marcbachmann/cel-js";
import { CostExceeded, type Meter, meterTree } from "./cost.js";
import { LINEAR_MATCHES, registerKubernetesLibraries } from "./library.js";

/** The variables a ValidatingAdmissionPolicy expression may use, as the API server names them. */
export const CEL_VARIABLES = [
  "object",
  "oldObject",
  "request",
  "params",
  "namespaceObject",
  "variables",
] as const;

/** Cost units one run may spend; the API server's per-expression limit is the same figure. */
export const DEFAULT_COST_BUDGET = 1_000_000;

/** Where an expression was written, for messages. */
export interface CelOrigin {
  file: string;
  /** The policy (or ValidatingAdmissionPolicy) that holds it. */
  policy: string;
  /** e.g. `validations[0].expression` */
  field: string;
}

/** An expression that does not compile, with where it is and what is wrong. */
export class CelCompileError extends Error {
  constructor(
    readonly origin: CelOrigin,
    readonly expression: string,
    readonly line: number,
    readonly column: number,
    readonly problem: string,
  ) {
    super(
      `${origin.file}: policy ${origin.policy}: ${origin.field}: ${problem} at line ${line}, column ${column} of ${JSON.stringify(expression)}`,
    );
    this.name = "CelCompileError";
  }
}

export type CelResult =
  | { ok: true; value: unknown }
  | { ok: false; error: string; overBudget: boolean };

/** A compiled expression. `run` never throws: errors and an exhausted budget are results. */
export interface CelProgram {
  expression: string;
  origin: CelOrigin;
  /** Number of instrumented nodes, i.e. the cost of one pass without loops. */
  nodes: number;
  run(activation: Readonly<Record<string, unknown>>, budget?: number): CelResult;
}

/** The environment every expression compiles in: one per policy set, never shared globally. */
export function createCelEnvironment(): Environment {
  const env = new Environment({
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 10_000, maxDepth: 64 },
  });
  registerKubernetesLibraries(env);
  for (const name of CEL_VARIABLES) env.registerVariable(name, "dyn");
  return env;
}

interface LibraryError {
  summary?: string;
  message: string;
  range?: { start: number; end: number };
}

function position(expression: string, offset: number): { line: number; column: number } {
  const before = expression.slice(0, Math.max(0, offset));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function summaryOf(error: unknown): string {
  const e = error as LibraryError;
  const text = (e?.summary ?? e?.message ?? String(error)).split("\n")[0] ?? "error";
  // Lower-case first, as the API server words its CEL errors ("no such key: x").
  return (text.charAt(0).toLowerCase() + text.slice(1)).replaceAll(LINEAR_MATCHES, "matches");
}

interface Node {
  op?: string;
  args?: unknown;
}

/**
 * `matches` is built into the library on JavaScript's backtracking RegExp
 * and cannot be replaced, so calls to it are pointed at the RE2 version.
 */
function linearMatches(value: unknown, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  const node = value as Node;
  if (
    (node.op === "call" || node.op === "rcall") &&
    Array.isArray(node.args) &&
    node.args[0] === "matches"
  ) {
    node.args[0] = LINEAR_MATCHES;
  }
  const children = "op" in node ? [node.args] : Array.isArray(value) ? value : Object.values(value);
  for (const child of children) linearMatches(child, seen);
}

/**
 * Functions the library has and the API server's CEL environment does not
 * declare (checked in k8s.io/apiserver's pkg/cel/environment/base.go up to
 * 1.37: no ext.Bindings), so an expression using them would be refused by
 * the API server: refused here too, at load. Use a VAP `variables` entry
 * instead of `cel.bind`.
 */
const UNDECLARED: ReadonlyMap<string, string> = new Map([
  [
    "cel.bind",
    "undeclared reference to 'bind' (in container 'cel'): the API server's CEL environment has no cel.bind; use a variables entry instead",
  ],
]);

interface Located {
  op?: string;
  args?: unknown;
  start?: number;
}

/** The first call of a function the API server does not declare, with its offset. */
function undeclaredCall(
  value: unknown,
  seen = new Set<unknown>(),
): { problem: string; offset: number } | undefined {
  if (value === null || typeof value !== "object" || seen.has(value)) return undefined;
  seen.add(value);
  const node = value as Located;
  if (node.op === "rcall" && Array.isArray(node.args)) {
    const [name, receiver] = node.args as [unknown, Located | undefined];
    const problem =
      receiver?.op === "id"
        ? UNDECLARED.get(`${String(receiver.args)}.${String(name)}`)
        : undefined;
    if (problem) return { problem, offset: node.start ?? 0 };
  }
  const children = "op" in node ? [node.args] : Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    const found = undeclaredCall(child, seen);
    if (found) return found;
  }
  return undefined;
}

type Expected = "bool" | "string" | "any";

/**
 * Parses and type-checks once; throws CelCompileError naming the origin, the
 * expression and the position. `expected` rejects expressions that can only
 * return another type (a `dyn` result is checked when it runs).
 */
export function compileCel(
  env: Environment,
  expression: string,
  origin: CelOrigin,
  expected: Expected = "any",
): CelProgram {
  const fail = (error: unknown): never => {
    const offset = (error as LibraryError)?.range?.start ?? 0;
    const { line, column } = position(expression, offset);
    throw new CelCompileError(origin, expression, line, column, summaryOf(error));
  };
  let parsed: ReturnType<Environment["parse"]>;
  try {
    parsed = env.parse(expression);
  } catch (error) {
    return fail(error);
  }
  const undeclared = undeclaredCall(parsed.ast);
  if (undeclared) {
    const { line, column } = position(expression, undeclared.offset);
    throw new CelCompileError(origin, expression, line, column, undeclared.problem);
  }
  linearMatches(parsed.ast);
  const checked = parsed.check();
  if (!checked.valid) return fail(checked.error);
  if (expected !== "any" && checked.type !== expected && checked.type !== "dyn") {
    const { line, column } = position(expression, 0);
    throw new CelCompileError(
      origin,
      expression,
      line,
      column,
      `must return ${expected}, not ${checked.type}`,
    );
  }
  const meter: Meter = { remaining: 0, budget: 0 };
  const nodes = meterTree(parsed.ast, meter);
  return {
    expression,
    origin,
    nodes,
    run(activation, budget = DEFAULT_COST_BUDGET) {
      meter.budget = budget;
      meter.remaining = budget;
      try {
        const value = parsed(activation as Record<string, unknown>);
        if (expected !== "any" && typeof value !== (expected === "bool" ? "boolean" : "string")) {
          return {
            ok: false,
            error: `returned ${typeof value}, expected ${expected}`,
            overBudget: false,
          };
        }
        return { ok: true, value };
      } catch (error) {
        const overBudget =
          error instanceof CostExceeded ||
          (error as { cause?: unknown })?.cause instanceof CostExceeded;
        return {
          ok: false,
          error: overBudget ? `cost budget of ${budget} exceeded` : summaryOf(error),
          overBudget,
        };
      }
    },
  };
}
