// CEL policies in the engine: the whole default set on the Deployment
// fixture, alone and with N PolicySet CEL policies of one simple expression
// each. The difference per policy is the cost of one simple expression per
// object, through the engine's whole path (match, activation, run, result).
//
//   npx tsx test/bench/cel.ts                 # table
//   npx tsx test/bench/cel.ts --json --dist   # what `npm run bench` runs (on dist/)
import { parseArgs } from "node:util";
import { Bench } from "tinybench";
import type { Verdict } from "../../src/engine/index.js";
import { loadObject } from "./lib/fixtures.js";

/** How many CEL policies are added; enough that their cost stands above the noise. */
export const CEL_POLICIES = 20;
const FIXTURE = "deployment-3.yaml";

/** Simple expressions of the kinds platform teams write: a label, a field, a name. */
const EXPRESSIONS = [
  "has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels",
  "object.spec.replicas <= 50",
  "object.metadata.name.size() < 64",
  "!has(object.spec.template.spec.hostNetwork) || !object.spec.template.spec.hostNetwork",
] as const;

export interface CelFigures {
  policies: number;
  /** Mean µs of one evaluation without and with the CEL policies. */
  baseUs: number;
  withCelUs: number;
  /** (withCel - base) / policies. */
  perExpressionUs: number;
  targetUs: number;
}

let sink: Verdict | undefined;

export async function benchCel(
  options: { dist?: boolean; timeMs?: number } = {},
): Promise<CelFigures> {
  const root = options.dist ? "../../dist/" : "../../";
  const engine = (await import(
    `${root}src/engine/index.js`
  )) as typeof import("../../src/engine/index.js");
  const policyset = (await import(
    `${root}src/policyset/index.js`
  )) as typeof import("../../src/policyset/index.js");
  const { registry } = (await import(
    `${root}policies/index.js`
  )) as typeof import("../../policies/index.js");
  const declarations = policyset.loadDeclarations(registry);
  const header = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };
  const celPolicies = Array.from({ length: CEL_POLICIES }, (_, i) => ({
    id: `cel-${i}`,
    action: "deny",
    match: { kinds: ["Deployment"] },
    validations: [{ expression: EXPRESSIONS[i % EXPRESSIONS.length], message: "no" }],
  }));
  const base = policyset.resolvePolicySet(declarations, header, "bench").set;
  const withCel = policyset.resolvePolicySet(declarations, { ...header, celPolicies }, "bench").set;
  const input = engine.inputFromObject(loadObject(FIXTURE));
  const evalOptions = { mode: "enforce", phase: "both" } as const;
  const check = engine.evaluate(input, withCel, evalOptions);
  const cel = check.results.filter((r) => r.policy.startsWith("cel-"));
  // Every CEL policy must have run and passed, or the figure measures something else.
  if (cel.length !== CEL_POLICIES || cel.some((r) => r.status !== "pass")) {
    throw new Error(`CEL policies did not all pass: ${JSON.stringify(cel.map((r) => r.status))}`);
  }
  const bench = new Bench({ time: options.timeMs ?? 2_000, warmup: true, warmupTime: 500 });
  bench.add("base", () => {
    sink = engine.evaluate(input, base, evalOptions);
  });
  bench.add("cel", () => {
    sink = engine.evaluate(input, withCel, evalOptions);
  });
  await bench.run();
  if (!sink) throw new Error("nothing was evaluated");
  const mean = (name: string) => {
    const result = bench.tasks.find((t) => t.name === name)?.result;
    if (result?.state !== "completed") throw new Error(`${name} did not complete`);
    return result.latency.mean * 1_000;
  };
  const baseUs = mean("base");
  const withCelUs = mean("cel");
  return {
    policies: CEL_POLICIES,
    baseUs,
    withCelUs,
    perExpressionUs: (withCelUs - baseUs) / CEL_POLICIES,
    targetUs: 5,
  };
}

const isMain = import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      dist: { type: "boolean", default: false },
      time: { type: "string" },
    },
  });
  const figures = await benchCel({
    dist: values.dist,
    timeMs: values.time ? Number(values.time) : undefined,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else console.table([figures]);
}
