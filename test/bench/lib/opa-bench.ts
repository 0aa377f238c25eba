// OPA's own benchmark (`opa bench`) of the Rego peer on the engine fixtures.
import { mkdirSync, writeFileSync } from "node:fs";
import { admissionReview, ENGINE_FIXTURES, loadObject, uidOf } from "./fixtures.js";
import { OPA_POLICY_DIR, OPA_QUERY, RUN_DIR } from "./opa.js";
import { run } from "./processes.js";

export interface OpaEngineFigures {
  evalsPerSec: number;
  /** Whole evaluation per iteration, input conversion included: T / N. */
  meanUs: number;
  /** Percentiles of OPA's query-evaluation timer. */
  p50Us: number;
  p99Us: number;
  /** Iterations over all repetitions. */
  samples: number;
  allocsPerEval: number;
}

interface GoBenchmark {
  N: number;
  T: number;
  MemAllocs: number;
  Extra: Record<string, number>;
}

/**
 * Runs `opa bench --count <count>` on each fixture's AdmissionReview, pinned
 * to `core`; keeps the repetition with the median time per evaluation.
 */
export async function benchOpaEngine(
  opa: string,
  core: number,
  count: number,
): Promise<Record<string, OpaEngineFigures>> {
  mkdirSync(`${RUN_DIR}inputs`, { recursive: true });
  const results: Record<string, OpaEngineFigures> = {};
  for (const fixture of ENGINE_FIXTURES) {
    const inputFile = `${RUN_DIR}inputs/${fixture.id}.json`;
    const review = admissionReview(loadObject(fixture.file), uidOf(fixture.id));
    writeFileSync(inputFile, JSON.stringify(review));
    const { stdout } = await run("taskset", [
      "-c",
      String(core),
      opa,
      "bench",
      "--format",
      "json",
      "--count",
      String(count),
      "--data",
      OPA_POLICY_DIR,
      "--input",
      inputFile,
      OPA_QUERY,
    ]);
    // --count prints one JSON document per repetition, back to back.
    const runs = JSON.parse(`[${stdout.trim().replace(/\}\s*\{/g, "},{")}]`) as GoBenchmark[];
    const sorted = [...runs].sort((a, b) => a.T / a.N - b.T / b.N);
    const median = sorted[Math.floor(sorted.length / 2)];
    if (!median) throw new Error(`opa bench printed nothing for ${fixture.id}`);
    const nsPerOp = median.T / median.N;
    results[fixture.id] = {
      evalsPerSec: 1e9 / nsPerOp,
      meanUs: nsPerOp / 1e3,
      p50Us: (median.Extra.histogram_timer_rego_query_eval_ns_median ?? Number.NaN) / 1e3,
      p99Us: (median.Extra["histogram_timer_rego_query_eval_ns_99%"] ?? Number.NaN) / 1e3,
      samples: runs.reduce((sum, r) => sum + r.N, 0),
      allocsPerEval: median.MemAllocs / median.N,
    };
  }
  return results;
}
