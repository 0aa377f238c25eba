// Tollgate against the limit: the bare node:https server (bare-server.ts),
// measured alternately in the same run with the same certificate, bodies and
// load generator. On a shared machine absolute figures drift from minute to
// minute, so every round measures both servers back to back and the report
// is the median of the per-round fractions, next to the median figures.
import { readFileSync } from "node:fs";
import type { BenchCase } from "./lib/fixtures.js";
import { fmt, table } from "./lib/table.js";
import {
  benchServer,
  caseLoad,
  type LoadRequest,
  type ServerContext,
  type ServerFigures,
} from "./server.js";

export interface Workload {
  id: string;
  label: string;
  load: LoadRequest[];
}

/** The loads Tollgate is compared with the bare server on. */
export function limitWorkloads(cases: readonly BenchCase[]): Workload[] {
  const example = readFileSync(new URL("../../examples/admission-review.json", import.meta.url));
  const deployment = caseLoad(cases).find((r) => r.name === "deployment-allowed");
  if (!deployment) throw new Error("cases.yaml has no deployment-allowed case");
  return [
    {
      id: "mix",
      label: "the 14-case mix",
      load: caseLoad(cases),
    },
    {
      id: "example",
      label: "examples/admission-review.json (denied Pod)",
      // The file as it is, byte for byte: JSON.stringify would only reformat it.
      load: [{ name: "example", endpoint: "validate", body: example.toString("utf8") }],
    },
    {
      id: "deployment",
      label: "compliant Deployment (3 + 1 init containers)",
      load: [deployment],
    },
  ];
}

export interface LimitFigures {
  workload: string;
  label: string;
  rounds: number;
  bare: ServerFigures;
  tollgate: ServerFigures;
  /** Medians over the rounds of Tollgate ÷ bare in the same round. */
  fraction: {
    /** Maximum throughput: the share of the bare server's Tollgate reaches. */
    rps: number;
    /** p99 at the fixed rate: how many times the bare server's. */
    p99: number;
    p50: number;
    /** CPU per request at maximum throughput: how many times the bare server's. */
    cpuUsPerRequest: number;
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Every numeric field of the figures, as the median over the rounds. */
function medianFigures(runs: readonly ServerFigures[]): ServerFigures {
  const first = runs[0];
  if (!first) throw new Error("no runs to take the median of");
  const out = { ...first };
  for (const key of Object.keys(first) as (keyof ServerFigures)[]) {
    out[key] = median(runs.map((r) => r[key]));
  }
  return out;
}

/**
 * Runs `rounds` rounds per workload. Each round measures both servers, the
 * bare one first in even rounds and second in odd ones, so a drift in the
 * machine's load does not always favour the same side.
 */
export async function benchLimit(
  workloads: readonly Workload[],
  rounds: number,
  context: ServerContext,
): Promise<LimitFigures[]> {
  const results: LimitFigures[] = [];
  for (const workload of workloads) {
    const bare: ServerFigures[] = [];
    const tollgate: ServerFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0 ? (["bare", "tollgate"] as const) : (["tollgate", "bare"] as const);
      for (const target of order) {
        context.log(`limit: ${workload.label}, round ${round + 1} of ${rounds}, ${target}`);
        const { figures } = await benchServer(target, {
          ...context,
          load: workload.load,
          runName: `${target}-${workload.id}-${round + 1}`,
        });
        (target === "bare" ? bare : tollgate).push(figures);
      }
    }
    const perRound = (pick: (t: ServerFigures, b: ServerFigures) => number) =>
      median(tollgate.map((t, i) => pick(t, bare[i] as ServerFigures)));
    results.push({
      workload: workload.id,
      label: workload.label,
      rounds,
      bare: medianFigures(bare),
      tollgate: medianFigures(tollgate),
      fraction: {
        rps: perRound((t, b) => t.rps / b.rps),
        p99: perRound((t, b) => t.p99Ms / b.p99Ms),
        p50: perRound((t, b) => t.p50Ms / b.p50Ms),
        cpuUsPerRequest: perRound((t, b) => t.cpuUsPerRequest / b.cpuUsPerRequest),
      },
    });
  }
  return results;
}

/** The limit table: per workload, the bare server, Tollgate and the fraction. */
export function formatLimitFigures(results: readonly LimitFigures[]): string {
  const rows = [["Tollgate against bare node:https", "bare", "Tollgate", "Tollgate ÷ bare"]];
  for (const r of results) {
    const { bare: b, tollgate: t, fraction: f } = r;
    rows.push(
      [`${r.label}${r.rounds > 1 ? ` (median of ${r.rounds} rounds)` : ""}`, "", "", ""],
      ["  max throughput (AdmissionReviews/s)", fmt(b.rps), fmt(t.rps), `${fmt(f.rps * 100)} %`],
      ["  p50 at 1,000/s (ms)", fmt(b.p50Ms, 3), fmt(t.p50Ms, 3), `${fmt(f.p50, 2)}×`],
      ["  p99 at 1,000/s (ms)", fmt(b.p99Ms, 3), fmt(t.p99Ms, 3), `${fmt(f.p99, 2)}×`],
      [
        "  CPU per request at max (µs)",
        fmt(b.cpuUsPerRequest, 1),
        fmt(t.cpuUsPerRequest, 1),
        `${fmt(f.cpuUsPerRequest, 2)}×`,
      ],
      ["  peak RSS after max (MB)", fmt(b.peakRssMb, 1), fmt(t.peakRssMb, 1), ""],
    );
  }
  return table(rows);
}
