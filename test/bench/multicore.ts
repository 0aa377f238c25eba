// The multi-core row: maximum throughput of `tollgate serve` (whole default
// set, decision log and metrics on) as 1, 2 … N processes (cluster-serve.ts),
// N being the machine's cores, on the compliant Deployment. Nothing is pinned:
// the processes and the load generator share every core, as replicas on a
// node share it with what else runs there. Rounds alternate the counts, and
// the report is the median per count and its ratio to one process.
// `npm run bench` runs it after the servers (not with --limit-only or
// --skip-server); alone:
//
//   npx tsx test/bench/multicore.ts [--rounds 3] [--duration 10] [--connections 32]
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateCertificates } from "../../src/certificates/generate.js";
import { admissionReview, loadCases, uidOf } from "./lib/fixtures.js";
import { RUN_DIR } from "./lib/opa.js";
import { run, start, stop, stopAll, stopChildrenOnExit } from "./lib/processes.js";
import { fmt, table } from "./lib/table.js";
import type { LoadResult } from "./loadgen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface MulticoreOptions {
  rounds: number;
  durationSec: number;
  connections: number;
  log?: (line: string) => void;
}

export interface MulticoreFigures {
  cores: number;
  rounds: number;
  durationSec: number;
  connections: number;
  /** Median AdmissionReviews/s per process count, and its ratio to one process. */
  rows: { processes: number; rps: number; timesOne: number }[];
  loadBefore: number[];
  loadAfter: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[s.length >> 1] ?? 0)
    : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
}

async function loadOnce(
  port: number,
  ca: string,
  body: string,
  seconds: number,
  connections: number,
): Promise<LoadResult> {
  const requestsFile = `${RUN_DIR}multicore-requests.json`;
  writeFileSync(requestsFile, JSON.stringify([{ path: "/validate?mode=enforce", body }]));
  const config = `${RUN_DIR}multicore-load.json`;
  writeFileSync(
    config,
    JSON.stringify({
      url: `https://127.0.0.1:${port}`,
      requestsFile,
      connections,
      durationSec: seconds,
    }),
  );
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "test/bench/loadgen.ts", config],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, NODE_TLS_REJECT_UNAUTHORIZED: "0" },
    },
  );
  const last = stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as LoadResult;
}

export async function benchMulticore(options: MulticoreOptions): Promise<MulticoreFigures> {
  const { rounds, durationSec, connections } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cores = availableParallelism();
  const counts = [...new Set([1, 2, cores])];
  const dir = `${RUN_DIR}tls/`;
  mkdirSync(`${RUN_DIR}logs`, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const bundle = await generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 7 });
  writeFileSync(`${dir}ca.crt`, bundle.caCert);
  writeFileSync(`${dir}tls.crt`, bundle.cert);
  writeFileSync(`${dir}tls.key`, bundle.key, { mode: 0o600 });
  const deployment = loadCases().find((c) => c.name === "deployment-allowed");
  if (!deployment) throw new Error("no deployment-allowed case");
  const body = JSON.stringify(admissionReview(deployment.object, uidOf(deployment.name)));
  const loadBefore = loadavg();
  const rps = new Map<number, number[]>(counts.map((n) => [n, []]));
  let port = 18_443;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? counts : [...counts].reverse();
    for (const n of order) {
      port++;
      const out = openSync(`${RUN_DIR}logs/multicore-${n}.log`, "w");
      const server = start(
        process.execPath,
        [
          "--import",
          "tsx",
          "test/bench/cluster-serve.ts",
          String(n),
          "--host",
          "127.0.0.1",
          "--port",
          String(port),
          "--cert",
          `${dir}tls.crt`,
          "--key",
          `${dir}tls.key`,
          "--no-cluster",
          "--drain-delay",
          "0",
        ],
        { cwd: ROOT, stdio: ["ignore", out, "pipe"] },
      );
      closeSync(out);
      try {
        await new Promise((done) => setTimeout(done, 4_000 + 1_000 * n));
        await loadOnce(port, `${dir}ca.crt`, body, 3, connections); // warm-up
        const result = await loadOnce(port, `${dir}ca.crt`, body, durationSec, connections);
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${n} processes: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        rps.get(n)?.push(result.rps);
        log(`multicore: round ${round + 1}: ${n} process(es): ${Math.round(result.rps)}/s`);
      } finally {
        await stop(server, 5_000);
      }
    }
  }
  const one = median(rps.get(1) ?? []);
  return {
    cores,
    rounds,
    durationSec,
    connections,
    rows: counts.map((processes) => {
      const m = median(rps.get(processes) ?? []);
      return { processes, rps: Math.round(m), timesOne: one > 0 ? m / one : 0 };
    }),
    loadBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
    loadAfter: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function formatMulticoreFigures(f: MulticoreFigures): string {
  const rows = [
    [
      `processes (compliant Deployment, ${f.connections} connections)`,
      "AdmissionReviews/s",
      "× one process",
    ],
  ];
  for (const r of f.rows) rows.push([String(r.processes), fmt(r.rps), `${fmt(r.timesOne, 2)}×`]);
  return `${table(rows)}\n\n${f.cores} cores, medians of ${f.rounds} rounds of ${f.durationSec}s, nothing pinned (the load generator shares the cores); load average before ${f.loadBefore.join(" ")}, after ${f.loadAfter.join(" ")}`;
}

const isMain = import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "32" },
    },
  });
  stopChildrenOnExit();
  try {
    const figures = await benchMulticore({
      rounds: Number(values.rounds),
      durationSec: Number(values.duration),
      connections: Number(values.connections),
    });
    process.stdout.write(`\n${formatMulticoreFigures(figures)}\n`);
  } catch (error) {
    process.stderr.write(`\nmulticore bench failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
}
