// HTTPS server load test: starts a webhook (Tollgate's built CLI, or OPA)
// pinned to one core, checks its verdict on every case, then drives it with
// the load generator (loadgen.ts) pinned to the other core: maximum
// throughput first, then latency at a fixed rate. Samples the server's CPU
// time and peak RSS from /proc.
//
// Used by run.ts (`npm run bench`), which builds what is needed first.
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import jsonpatch from "fast-json-patch";
import type { KubeObject } from "../../src/engine/index.js";
import { admissionReview, type BenchCase, uidOf } from "./lib/fixtures.js";
import { OPA_DECISION, OPA_POLICY_DIR, RUN_DIR, relative } from "./lib/opa.js";
import { cpuSecondsOf, memoryOf, run, type Started, start, stop } from "./lib/processes.js";
import type { LoadConfig, LoadResult } from "./loadgen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LOADGEN = fileURLToPath(new URL("loadgen.ts", import.meta.url));
const BARE_SERVER = fileURLToPath(new URL("bare-server.ts", import.meta.url));

export type ServerTarget = "tollgate" | "tollgate-seven" | "opa" | "bare";

export const TARGET_LABELS: Record<ServerTarget, string> = {
  tollgate: "Tollgate, whole default set",
  "tollgate-seven": "Tollgate, seven checks",
  opa: "OPA, seven checks in Rego",
  bare: "bare node:https (parse, admit)",
};

/** One request body of a load, and the Tollgate endpoint it goes to. */
export interface LoadRequest {
  name: string;
  endpoint: "validate" | "mutate";
  body: string;
}

/** The load mix of the headline: every case with `load: true`, round robin. */
export function caseLoad(cases: readonly BenchCase[]): LoadRequest[] {
  return cases
    .filter((c) => c.load)
    .map((c) => ({
      name: c.name,
      endpoint: c.endpoint,
      body: JSON.stringify(admissionReview(c.object, uidOf(c.name))),
    }));
}

export interface ServerSettings {
  /** Cores: the server gets `serverCore`, the load generator `loadCore`. */
  serverCore: number;
  loadCore: number;
  /** Warm-up at the fixed rate, before anything is measured. */
  warmupSec: number;
  maxDurationSec: number;
  maxConnections: number;
  rate: number;
  rateDurationSec: number;
  rateConnections: number;
  /** Write a V8 CPU profile of the Tollgate server to this directory. */
  profileDir?: string | undefined;
}

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
}

export interface ServerFigures {
  /** Maximum throughput: AdmissionReviews answered per second. */
  rps: number;
  maxConnections: number;
  /** Latency at the fixed rate, in milliseconds. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** The rate actually achieved in the fixed-rate run. */
  rateRps: number;
  /** Latency at maximum throughput (queueing included), for reference. */
  p99MsAtMax: number;
  /** VmHWM after both runs: the peak of the whole life of the server. */
  peakRssMb: number;
  /** VmHWM after warm-up and the fixed rate, before the maximum-throughput run. */
  peakRssMbAtRate: number;
  /** Share of one core the server used at the fixed rate. */
  cpuPercent: number;
  /** Share of one core the server used at maximum throughput. */
  cpuPercentAtMax: number;
  /** Server CPU time per answered AdmissionReview at maximum throughput. */
  cpuUsPerRequest: number;
  /** Share of its core the load generator used at maximum throughput. */
  loadGeneratorCpuPercent: number;
  /** Answers that were not 2xx, and connection errors, over both runs. */
  non2xx: number;
  errors: number;
}

export interface Verdict {
  allowed: boolean;
  patched: boolean;
  warnings: number;
}

export interface ServerRun {
  figures: ServerFigures;
  verdicts: Record<string, Verdict>;
}

export interface ServerContext {
  tls: TlsFiles;
  cases: BenchCase[];
  opaBinary: string;
  sevenConfigFile: string;
  settings: ServerSettings;
  log: (line: string) => void;
  ticksPerSecond: number;
  /** Called with the server's pid once it is ready (for extra sampling). */
  onReady?: (pid: number) => void;
  /** What the load sends; the cases marked `load` by default. */
  load?: LoadRequest[];
  /** Names the run's files (logs, load configs) apart from other runs of the target. */
  runName?: string;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function post(
  port: number,
  path: string,
  body: string,
  ca: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((done, fail) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: body ? "POST" : "GET",
        ca,
        servername: "localhost",
        headers: body ? { "content-type": "application/json" } : {},
        timeout: 5_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          try {
            done({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          } catch {
            done({ status: res.statusCode ?? 0, json: text });
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", fail);
    req.end(body || undefined);
  });
}

/** Where each case goes on each target. */
function pathOf(target: ServerTarget, c: { endpoint: "validate" | "mutate" }): string {
  if (target === "opa") return "/";
  if (target === "bare") return "/validate";
  if (target === "tollgate-seven") return "/validate?mode=enforce";
  return `/${c.endpoint}?mode=enforce`;
}

function startServer(target: ServerTarget, port: number, context: ServerContext): Started {
  const { tls, settings } = context;
  mkdirSync(`${RUN_DIR}logs`, { recursive: true });
  const logFile = `${RUN_DIR}logs/${context.runName ?? target}.log`;
  const out = openSync(logFile, "w");
  const pin = ["-c", String(settings.serverCore)];
  try {
    if (target === "opa") {
      return start(
        "taskset",
        [
          ...pin,
          context.opaBinary,
          "run",
          "--server",
          "--addr",
          `127.0.0.1:${port}`,
          "--tls-cert-file",
          tls.certFile,
          "--tls-private-key-file",
          tls.keyFile,
          "--log-level",
          "error",
          "--skip-version-check",
          `--set=default_decision=${OPA_DECISION}`,
          OPA_POLICY_DIR,
        ],
        { stdio: ["ignore", out, "pipe"] },
      );
    }
    if (target === "bare") {
      return start(
        "taskset",
        [
          ...pin,
          process.execPath,
          "--import",
          "tsx",
          BARE_SERVER,
          String(port),
          tls.certFile,
          tls.keyFile,
        ],
        { cwd: ROOT, stdio: ["ignore", out, "pipe"] },
      );
    }
    const profile = settings.profileDir
      ? [
          "--cpu-prof",
          "--cpu-prof-dir",
          settings.profileDir,
          `--cpu-prof-name=${context.runName ?? target}.cpuprofile`,
        ]
      : [];
    return start(
      "taskset",
      [
        ...pin,
        process.execPath,
        ...profile,
        "dist/src/cli/main.js",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--cert",
        tls.certFile,
        "--key",
        tls.keyFile,
        "--no-cluster",
        "--drain-delay",
        "0",
        ...(target === "tollgate-seven" ? ["--config", context.sevenConfigFile] : []),
      ],
      // The decision log (pino, info level, one line per request) goes to a file, as in production.
      { cwd: ROOT, stdio: ["ignore", out, "pipe"] },
    );
  } finally {
    closeSync(out);
  }
}

async function waitReady(target: ServerTarget, port: number, server: Started, ca: string) {
  const path = target === "opa" ? "/health" : "/readyz";
  const deadline = Date.now() + 60_000;
  let last = "";
  while (Date.now() < deadline) {
    const exited = await Promise.race([
      server.exited,
      new Promise((done) => setTimeout(done, 100)),
    ]);
    if (exited !== undefined) {
      throw new Error(
        `${target} exited (${exited}) before it was ready:\n${server.stderr().slice(-3000)}`,
      );
    }
    try {
      const { status } = await post(port, path, "", ca);
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (error) {
      last = (error as Error).message;
    }
  }
  throw new Error(`${target} was not ready after 60s (${last}):\n${server.stderr().slice(-3000)}`);
}

interface ReviewAnswer {
  response?: { allowed?: unknown; patch?: unknown; patchType?: unknown; warnings?: unknown };
}

/**
 * Sends every case once and compares the answer with what the case expects.
 * For Tollgate's /mutate, the patch is applied and the patched object must
 * then pass /validate, as it would in the API server.
 */
async function checkVerdicts(
  target: ServerTarget,
  port: number,
  context: ServerContext,
): Promise<Record<string, Verdict>> {
  const verdicts: Record<string, Verdict> = {};
  const problems: string[] = [];
  for (const c of context.cases) {
    const body = JSON.stringify(admissionReview(c.object, uidOf(c.name)));
    const { status, json } = await post(port, pathOf(target, c), body, context.tls.ca);
    const response = (json as ReviewAnswer | undefined)?.response;
    if (status !== 200 || typeof response?.allowed !== "boolean") {
      problems.push(
        `${c.name}: HTTP ${status}, no AdmissionReview response: ${JSON.stringify(json).slice(0, 300)}`,
      );
      continue;
    }
    const patched = typeof response.patch === "string";
    const warnings = Array.isArray(response.warnings) ? response.warnings.length : 0;
    verdicts[c.name] = { allowed: response.allowed, patched, warnings };
    // The bare server admits everything; it only has to echo the uid.
    if (target === "bare") {
      if ((response as { uid?: unknown }).uid !== uidOf(c.name)) {
        problems.push(`${c.name}: the bare server did not answer with the request's uid`);
      }
      continue;
    }
    const allowedExpected = c.expect !== "denied";
    if (response.allowed !== allowedExpected) {
      problems.push(`${c.name}: ${response.allowed ? "allowed" : "denied"}, expected ${c.expect}`);
    }
    if (target === "tollgate" && c.endpoint === "mutate") {
      if (!patched || response.patchType !== "JSONPatch") {
        problems.push(`${c.name}: /mutate returned no JSONPatch`);
        continue;
      }
      const ops = JSON.parse(Buffer.from(response.patch as string, "base64").toString("utf8"));
      const object = jsonpatch.applyPatch(structuredClone(c.object), ops, true, false)
        .newDocument as KubeObject;
      const after = await post(
        port,
        "/validate?mode=enforce",
        JSON.stringify(admissionReview(object, uidOf(`${c.name}-patched`))),
        context.tls.ca,
      );
      const allowedAfter = (after.json as ReviewAnswer | undefined)?.response?.allowed;
      if (allowedAfter !== true)
        problems.push(`${c.name}: the patched object is not admitted by /validate`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${TARGET_LABELS[target]} gave unexpected verdicts:\n  ${problems.join("\n  ")}`,
    );
  }
  return verdicts;
}

interface Measured extends LoadResult {
  /** Server CPU seconds and wall seconds between the start of the load and its result. */
  serverCpuSec: number;
  wallSec: number;
}

async function loadgen(
  name: string,
  config: LoadConfig,
  serverPid: number,
  context: ServerContext,
): Promise<Measured> {
  const file = `${RUN_DIR}load-${name}.json`;
  writeFileSync(file, JSON.stringify(config));
  const { ticksPerSecond } = context;
  let cpuAtStart = 0;
  let startedAt = 0n;
  let cpuAtEnd = 0;
  let endedAt = 0n;
  let result: LoadResult | undefined;
  await run(
    "taskset",
    ["-c", String(context.settings.loadCore), process.execPath, "--import", "tsx", LOADGEN, file],
    {
      cwd: ROOT,
      timeoutMs: (config.durationSec + 60) * 1_000,
      echo: (line) => {
        if (!line.startsWith("{")) {
          if (line.trim()) context.log(`    loadgen: ${line}`);
          return;
        }
        const parsed = JSON.parse(line) as LoadResult | { event: "start" };
        if ("event" in parsed) {
          cpuAtStart = cpuSecondsOf(serverPid, ticksPerSecond);
          startedAt = process.hrtime.bigint();
        } else {
          cpuAtEnd = cpuSecondsOf(serverPid, ticksPerSecond);
          endedAt = process.hrtime.bigint();
          result = parsed;
        }
      },
    },
  );
  if (!result || startedAt === 0n) throw new Error(`load generator ${name} reported nothing`);
  return {
    ...result,
    serverCpuSec: cpuAtEnd - cpuAtStart,
    wallSec: Number(endedAt - startedAt) / 1e9,
  };
}

/** Starts one target, checks its verdicts, measures it, and stops it. */
export async function benchServer(
  target: ServerTarget,
  context: ServerContext,
): Promise<ServerRun> {
  const { settings, log } = context;
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const name = context.runName ?? target;
  const server = startServer(target, port, context);
  try {
    await waitReady(target, port, server, context.tls.ca);
    context.onReady?.(server.pid);
    const verdicts = await checkVerdicts(target, port, context);
    log(`  ${name}: verdicts on ${Object.keys(verdicts).length} cases as expected`);

    const requestsFile = `${RUN_DIR}requests-${name}.json`;
    const load = context.load ?? caseLoad(context.cases);
    writeFileSync(
      requestsFile,
      JSON.stringify(load.map((r) => ({ path: pathOf(target, r), body: r.body }))),
    );
    const base = { url, requestsFile };

    // Warm-up and the fixed rate come first, so that the peak RSS at that rate
    // is known before the maximum-throughput run raises it.
    const atRate = {
      ...base,
      connections: settings.rateConnections,
      overallRate: settings.rate,
    };
    log(`  ${name}: warm-up, ${settings.rate}/s for ${settings.warmupSec}s`);
    await loadgen(
      `${name}-warmup`,
      { ...atRate, durationSec: settings.warmupSec },
      server.pid,
      context,
    );

    log(
      `  ${name}: ${settings.rate}/s for ${settings.rateDurationSec}s, ${settings.rateConnections} connections`,
    );
    const rate = await loadgen(
      `${name}-rate`,
      { ...atRate, durationSec: settings.rateDurationSec },
      server.pid,
      context,
    );
    const memoryAtRate = memoryOf(server.pid);

    log(
      `  ${name}: maximum throughput, ${settings.maxConnections} connections, ${settings.maxDurationSec}s`,
    );
    const max = await loadgen(
      `${name}-max`,
      { ...base, connections: settings.maxConnections, durationSec: settings.maxDurationSec },
      server.pid,
      context,
    );
    const memory = memoryOf(server.pid);

    const figures: ServerFigures = {
      rps: max.rps,
      maxConnections: settings.maxConnections,
      p50Ms: rate.latencyMs.p50,
      p90Ms: rate.latencyMs.p90,
      p99Ms: rate.latencyMs.p99,
      maxMs: rate.latencyMs.max,
      meanMs: rate.latencyMs.mean,
      rateRps: rate.rps,
      p99MsAtMax: max.latencyMs.p99,
      peakRssMb: memory?.peakRssMb ?? Number.NaN,
      peakRssMbAtRate: memoryAtRate?.peakRssMb ?? Number.NaN,
      cpuPercent: (rate.serverCpuSec / rate.wallSec) * 100,
      cpuPercentAtMax: (max.serverCpuSec / max.wallSec) * 100,
      cpuUsPerRequest: (max.serverCpuSec / Math.max(1, max.completed)) * 1e6,
      loadGeneratorCpuPercent: max.generatorCpuPercent,
      non2xx: max.non2xx + rate.non2xx,
      errors: max.errors + rate.errors + max.timeouts + rate.timeouts,
    };
    if (figures.non2xx > 0 || figures.errors > 0) {
      throw new Error(
        `${name}: ${figures.non2xx} non-2xx answers and ${figures.errors} errors under load; see ${relative(`${RUN_DIR}logs/${name}.log`)}`,
      );
    }
    return { figures, verdicts };
  } finally {
    await stop(server, 15_000);
  }
}
