// CPU and bytes allocated per evaluate() of one engine fixture, from a
// build's dist/, for comparing a change with its base on a busy machine:
// CPU time (not wall time) of many evaluations, least of several batches,
// and the bytes one evaluation leaves on the heap, which does not depend on
// the machine's load at all. Run two builds alternately, pinned to one core:
//
//   taskset -c 1 node --import tsx --expose-gc --min-semi-space-size=256 --max-semi-space-size=256 \
//     test/bench/engine-path.ts <checkout> [--fixture deployment-3] [--evals 5000] [--batches 7]
//
// Prints one JSON line. `npm run bench` (engine.ts) stays the figure of
// record on a quiet machine; this is for before/after on a shared one.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics } from "node:v8";
import { ENGINE_FIXTURES, loadObject } from "./lib/fixtures.js";
import { loadBuild } from "./lib/policysets.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    fixture: { type: "string", default: "deployment-3" },
    evals: { type: "string", default: "5000" },
    batches: { type: "string", default: "7" },
  },
});
const checkout = resolve(positionals[0] ?? ".");
const fixture = ENGINE_FIXTURES.find((f) => f.id === values.fixture);
if (!fixture) throw new Error(`no fixture ${values.fixture}`);

const {
  engine,
  sets: { full },
} = await loadBuild(checkout);

const input = engine.inputFromObject(loadObject(fixture.file));
const options = { mode: "enforce", phase: "both" } as const;
let sink: unknown;
const once = () => {
  sink = engine.evaluate(input, full.set, options);
};

const evals = Number(values.evals);
for (let i = 0; i < evals; i++) once();
const perEval: number[] = [];
for (let b = 0; b < Number(values.batches); b++) {
  const before = process.cpuUsage();
  for (let i = 0; i < evals; i++) once();
  const used = process.cpuUsage(before);
  perEval.push((used.user + used.system) / evals);
}
perEval.sort((a, b) => a - b);

// Bytes allocated: the young generation's growth over 1,000 evaluations right
// after a minor collection, with a young generation large enough that none
// runs in between (--min-semi-space-size=256 --max-semi-space-size=256:
// without the minimum it starts small and collects anyway). Least of three.
let allocatedKb: number | undefined;
const gc = (globalThis as { gc?: (options?: object) => void }).gc;
const youngUsed = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_used_size ?? 0;
if (gc) {
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    gc({ type: "minor" });
    const before = youngUsed();
    for (let i = 0; i < 1000; i++) once();
    samples.push((youngUsed() - before) / 1000 / 1024);
  }
  allocatedKb = Math.round(Math.min(...samples) * 100) / 100;
}
if (!sink) throw new Error("nothing was evaluated");
const round = (v: number | undefined) => Math.round((v ?? 0) * 100) / 100;
process.stdout.write(
  `${JSON.stringify({
    checkout,
    fixture: fixture.id,
    leastCpuUs: round(perEval[0]),
    medianCpuUs: round(perEval[perEval.length >> 1]),
    allocatedKbPerEval: allocatedKb,
  })}\n`,
);
