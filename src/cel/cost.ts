// A runtime cost limit for CEL, which the library does not have. Every node
// of the parsed expression is instrumented: evaluating it costs one unit, and
// operations that build strings or lists cost their size as well, so a
// comprehension over a large list or a string doubled in a loop runs out of
// budget instead of stalling the admission path. The budget belongs to one
// program and is reset per run; evaluation is synchronous, so runs never overlap.

/** Thrown through the library when a run spends its budget; caught in program.ts. */
export class CostExceeded extends Error {
  constructor(readonly budget: number) {
    super(`cost budget of ${budget} exceeded`);
    this.name = "CostExceeded";
  }
}

export interface Meter {
  remaining: number;
  budget: number;
}

type Evaluate = (ev: unknown, ast: unknown, ctx: unknown) => unknown;

interface Node {
  op: string;
  args: unknown;
  evaluate: Evaluate;
}

function isNode(value: unknown): value is Node {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Node).op === "string" &&
    typeof (value as Node).evaluate === "function"
  );
}

/** Operations whose result is new data whose size is worth charging for. */
const BUILDS = new Set(["+", "call", "rcall", "list", "map"]);

function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length >> 3;
  if (Array.isArray(value)) return value.length;
  return 0;
}

function charge(meter: Meter, units: number): void {
  meter.remaining -= units;
  if (meter.remaining < 0) throw new CostExceeded(meter.budget);
}

/**
 * The library resolves a node's evaluate function on first use and stores it
 * on the node; an accessor property keeps that working while every call
 * through it is charged.
 */
function instrument(node: Node, meter: Meter): void {
  let resolved: Evaluate = node.evaluate;
  const builds = BUILDS.has(node.op);
  const charged: Evaluate = function (this: Node, ev, ast, ctx) {
    charge(meter, 1);
    const result = resolved.call(this, ev, ast, ctx);
    if (builds) charge(meter, sizeOf(result));
    return result;
  };
  Object.defineProperty(node, "evaluate", {
    configurable: true,
    get: () => charged,
    set: (fn: Evaluate) => {
      resolved = fn;
    },
  });
}

/** Instruments every node reachable from the root; returns how many there are. */
export function meterTree(root: unknown, meter: Meter): number {
  let count = 0;
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (isNode(value)) {
      instrument(value, meter);
      count++;
      visit(value.args);
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child);
  };
  visit(root);
  return count;
}
