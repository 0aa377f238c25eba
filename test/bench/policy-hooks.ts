// CPU per policy hook: each enabled policy's validate or mutate of the whole
// default set, called alone and many times on one fixture from a build's
// dist/, to see which policies an evaluation's time goes to (a profile of
// the whole evaluation spreads it thinly). Also podTargetOf and the whole
// evaluate() for scale. Least of several batches, CPU time. Pinned to a core:
//
//   taskset -c 1 npx tsx test/bench/policy-hooks.ts <checkout> [--fixture deployment-3] [--calls 20000]
//
// A hook called alone runs faster than inside evaluate(), where its call
// sites see every policy; compare builds with it, not with engine.ts.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ENGINE_FIXTURES, loadObject } from "./lib/fixtures.js";
import { loadBuild } from "./lib/policysets.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    fixture: { type: "string", default: "deployment-3" },
    calls: { type: "string", default: "20000" },
    batches: { type: "string", default: "5" },
  },
});
const checkout = resolve(positionals[0] ?? ".");
const fixture = ENGINE_FIXTURES.find((f) => f.id === values.fixture);
if (!fixture) throw new Error(`no fixture ${values.fixture}`);
const calls = Number(values.calls);
const batches = Number(values.batches);

const {
  engine,
  sets: { full },
} = await loadBuild(checkout);

const object = loadObject(fixture.file);
const input = engine.inputFromObject(object);
const resource = engine.resourceOf(object, undefined);
const pod = engine.podTargetOf(object, resource);
const target = { resource, object, oldObject: undefined, operation: "CREATE" as const, pod };

let sink: unknown;
/** Least CPU µs per call of `fn` over the batches, after one batch of warm-up. */
function leastUs(fn: () => unknown): number {
  for (let i = 0; i < calls; i++) sink = fn();
  let least = Number.POSITIVE_INFINITY;
  for (let b = 0; b < batches; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) sink = fn();
    const used = process.cpuUsage(before);
    least = Math.min(least, (used.user + used.system) / calls);
  }
  return least;
}

const rows: [string, number][] = [];
for (const policy of full.set.policies) {
  const { hook } = policy;
  if (!hook) continue;
  const given = (policy.scope === "object" ? target : pod) as Parameters<typeof hook>[0];
  rows.push([policy.declaration.id, leastUs(() => hook(given, policy.parameters))]);
}
rows.sort((a, b) => b[1] - a[1]);
const options = { mode: "enforce", phase: "both" } as const;
const podUs = leastUs(() => engine.podTargetOf(object, resource));
const evaluateUs = leastUs(() => engine.evaluate(input, full.set, options));
if (!sink) throw new Error("nothing was called");
const us = (v: number) => v.toFixed(3).padStart(8);
for (const [id, v] of rows) console.log(`${us(v)} µs  ${id}`);
const sum = rows.reduce((total, [, v]) => total + v, 0);
console.log(`${us(sum)} µs  sum of the hooks (${rows.length})`);
console.log(`${us(podUs)} µs  podTargetOf`);
console.log(`${us(evaluateUs)} µs  evaluate(), whole default set, mutate and validate`);
