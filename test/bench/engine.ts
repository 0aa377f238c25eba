// Engine benchmark: evaluations per second of a whole policy set (mutate,
// then validate) on the fixtures, measured with tinybench.
//
//   npx tsx test/bench/engine.ts                    # table, every fixture, both sets
//   npx tsx test/bench/engine.ts --json             # JSON on stdout (what run.ts reads)
//   npx tsx test/bench/engine.ts --only deployment-3 --set full --time 5000
//   npx tsx test/bench/engine.ts --dist                   # the build in dist/ (npm run build first)
//
// `npm run bench` runs it on dist/, pinned to one core (taskset -c 1). For a CPU profile:
//   node --cpu-prof --cpu-prof-dir test/bench/.run/profiles --import tsx test/bench/engine.ts --only deployment-3 --set full
import { parseArgs } from "node:util";
import { Bench } from "tinybench";
import type {
  AdmissionInput,
  EvaluateOptions,
  PolicySet,
  Verdict,
} from "../../src/engine/index.js";
import { ENGINE_FIXTURES, loadObject } from "./lib/fixtures.js";
import { loadPolicySets, type PolicySetModules } from "./lib/policysets.js";

type EngineModule = typeof import("../../src/engine/index.js");

/**
 * The engine and policies to measure: the compiled build in dist/ (what
 * ships, and what `npm run bench` measures), or the TypeScript sources
 * through tsx, which run about a tenth slower.
 */
async function loadModules(
  dist: boolean,
): Promise<{ engine: EngineModule; sets: PolicySetModules }> {
  const root = dist ? "../../dist/" : "../../";
  const engine = (await import(`${root}src/engine/index.js`)) as EngineModule;
  const policyset = (await import(
    `${root}src/policyset/index.js`
  )) as typeof import("../../src/policyset/index.js");
  const { registry } = (await import(
    `${root}policies/index.js`
  )) as typeof import("../../policies/index.js");
  return { engine, sets: { registry, ...policyset } };
}

export interface EngineFigures {
  evalsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Relative margin of error of the mean, in percent. */
  rmePercent: number;
  samples: number;
  /** Policies that applied to the object. */
  policies: number;
}

/** Figures per policy set (`full`, `seven`), then per fixture id. */
export type EngineResults = Record<"full" | "seven", Record<string, EngineFigures>>;

const OPTIONS: EvaluateOptions = { mode: "enforce", phase: "both" };

// Results go somewhere observable, so the evaluation cannot be optimised away.
let sink: Verdict | undefined;

export async function benchEngine(
  options: {
    only?: string;
    sets?: ("full" | "seven")[];
    timeMs?: number;
    warmupMs?: number;
    dist?: boolean;
  } = {},
): Promise<EngineResults> {
  const modules = await loadModules(options.dist ?? false);
  const { evaluate, inputFromObject } = modules.engine;
  const { full, seven } = loadPolicySets(modules.sets);
  const sets: Record<"full" | "seven", PolicySet> = { full: full.set, seven: seven.set };
  const chosen = options.sets ?? ["full", "seven"];
  const fixtures = ENGINE_FIXTURES.filter((f) => !options.only || f.id === options.only);
  if (fixtures.length === 0) throw new Error(`no fixture named ${options.only}`);

  const bench = new Bench({
    name: "tollgate engine",
    time: options.timeMs ?? 2_000,
    warmup: true,
    warmupTime: options.warmupMs ?? 500,
    warmupIterations: 200,
  });
  const inputs = new Map<string, AdmissionInput>();
  const applied = new Map<string, number>();
  for (const fixture of fixtures) {
    const input = inputFromObject(loadObject(fixture.file));
    for (const setName of chosen) {
      const key = `${setName}/${fixture.id}`;
      const verdict = evaluate(input, sets[setName], OPTIONS);
      // The fixtures pass every check: a denial here means a fixture or policy changed.
      if (!verdict.allowed || verdict.patch.length > 0) {
        throw new Error(`${fixture.file} is no longer admitted unchanged by the ${setName} set`);
      }
      inputs.set(key, input);
      applied.set(key, verdict.evaluated.length);
      const set = sets[setName];
      bench.add(key, () => {
        sink = evaluate(input, set, OPTIONS);
      });
    }
  }
  await bench.run();
  if (!sink) throw new Error("nothing was evaluated");

  const results: EngineResults = { full: {}, seven: {} };
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== "completed") {
      const why = result.state === "errored" ? result.error.message : result.state;
      throw new Error(`engine benchmark ${task.name} did not complete: ${why}`);
    }
    const [setName, fixture] = task.name.split("/") as ["full" | "seven", string];
    const { latency } = result;
    results[setName][fixture] = {
      evalsPerSec: 1_000 / latency.mean,
      meanUs: latency.mean * 1_000,
      p50Us: latency.p50 * 1_000,
      p99Us: latency.p99 * 1_000,
      rmePercent: latency.rme,
      samples: latency.samplesCount,
      policies: applied.get(task.name) ?? 0,
    };
  }
  return results;
}

function printTable(results: EngineResults): void {
  const rows: Record<string, string | number>[] = [];
  for (const setName of ["full", "seven"] as const) {
    for (const [fixture, f] of Object.entries(results[setName])) {
      rows.push({
        set: setName === "full" ? "whole default set" : "seven checks",
        fixture,
        policies: f.policies,
        "evals/s": Math.round(f.evalsPerSec),
        "mean µs": f.meanUs.toFixed(1),
        "p99 µs": f.p99Us.toFixed(1),
        "±%": f.rmePercent.toFixed(2),
        samples: f.samples,
      });
    }
  }
  console.table(rows);
}

const isMain = import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      dist: { type: "boolean", default: false },
      only: { type: "string" },
      set: { type: "string", multiple: true },
      time: { type: "string" },
    },
  });
  const sets = values.set?.map((s) => {
    if (s !== "full" && s !== "seven") throw new Error("--set is full or seven");
    return s;
  });
  const results = await benchEngine({
    only: values.only,
    sets,
    timeMs: values.time ? Number(values.time) : undefined,
    dist: values.dist,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else printTable(results);
}
