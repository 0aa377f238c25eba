// The multi-core row: maximum throughput of `tollgate serve` (whole default
// set, decision log and metrics on) as 1, 2 … N processes (cluster-serve.ts),
// N being the machine's cores, on the compliant Deployment. Nothing is pinned:
// the processes and the load generator share every core, as replicas on a
// node share it with what else runs there. Rounds alternate the counts, and
// the report is the median per count and its ratio to one process.
//
//   npx tsx test/bench/multicore.ts [--rounds 3] [--duration 10]
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
const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
  },
});
const rounds = Number(values.rounds);
const durationSec = Number(values.duration);
const cores = availableParallelism();
const counts = [...new Set([1, 2, cores])].filter((n) => n <= Math.max(2, cores));

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
): Promise<LoadResult> {
  const requestsFile = `${RUN_DIR}multicore-requests.json`;
  writeFileSync(requestsFile, JSON.stringify([{ path: "/validate?mode=enforce", body }]));
  const config = `${RUN_DIR}multicore-load.json`;
  writeFileSync(
    config,
    JSON.stringify({
      url: `https://127.0.0.1:${port}`,
      requestsFile,
      connections: Number(values.connections),
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

async function main(): Promise<void> {
  stopChildrenOnExit();
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
        await loadOnce(port, `${dir}ca.crt`, body, 3); // warm-up
        const result = await loadOnce(port, `${dir}ca.crt`, body, durationSec);
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${n} processes: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        rps.get(n)?.push(result.rps);
        process.stderr.write(`round ${round + 1}: ${n} process(es): ${Math.round(result.rps)}/s\n`);
      } finally {
        await stop(server, 5_000);
      }
    }
  }
  const one = median(rps.get(1) ?? []);
  const rows = [
    ["processes (compliant Deployment, 32 connections)", "AdmissionReviews/s", "× one process"],
  ];
  for (const n of counts) {
    const m = median(rps.get(n) ?? []);
    rows.push([String(n), fmt(m), `${fmt(m / one, 2)}×`]);
  }
  process.stdout.write(
    `\n${table(rows)}\n\n${cores} cores, medians of ${rounds} rounds of ${durationSec}s; load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(`\nmulticore bench failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
