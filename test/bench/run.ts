// npm run bench [-- --json FILE] [--quick] [--profile] [--skip-server] [--limit-only] [--rounds N] [--skip-cli] [--skip-multicore]
//
// Builds what is needed (Tollgate's dist/, OPA into test/bench/.run/bin),
// checks that Tollgate and the Rego peer give the same verdicts on every
// input, then measures, side by side in the same run:
//   1. the engines: Tollgate's evaluate() (tinybench) and `opa bench`;
//   2. the CLI: `tollgate test` and `tollgate fix` on 100,000 objects (cli.ts);
//   3. the HTTPS servers: `tollgate serve` (whole default set, then the seven
//      checks of the Rego peer) and `opa run --server`, each pinned to one
//      core, driven by autocannon pinned to the other;
//   4. the limit: Tollgate against a bare node:https server (limit.ts), on the
//      case mix, the example AdmissionReview and a compliant Deployment;
//   5. the multi-core row: `tollgate serve` as 1, 2 … N processes (multicore.ts).
// Prints a table; with --json FILE writes every figure. See docs/benchmarks.md.

import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateCertificates } from "../../src/certificates/generate.js";
import { CEL_POLICIES, type CelFigures } from "./cel.js";
import { benchCli, formatCliFigures } from "./cli.js";
import type { EngineFigures, EngineResults } from "./engine.js";
import { benchHostileInputs, formatHostileFigures } from "./hostile.js";
import { ENGINE_FIXTURES, HEADLINE_FIXTURE, loadCases } from "./lib/fixtures.js";
import { machineInfo, ticksPerSecond, waitForQuiet, watchOtherLoad } from "./lib/machine.js";
import { ensureOpa, goBinary, pinnedOpaVersion, RUN_DIR, relative } from "./lib/opa.js";
import { benchOpaEngine, type OpaEngineFigures } from "./lib/opa-bench.js";
import { loadPolicySets, writePolicySetFile } from "./lib/policysets.js";
import { run, stopAll, stopChildrenOnExit } from "./lib/processes.js";
import { fmt, table } from "./lib/table.js";
import { checkEngineVerdicts, checkRegoParameters } from "./lib/verdicts.js";
import { benchLimit, formatLimitFigures, type LimitFigures, limitWorkloads } from "./limit.js";
import { benchMulticore, formatMulticoreFigures, type MulticoreFigures } from "./multicore.js";
import {
  benchServer,
  type ServerFigures,
  type ServerRun,
  type ServerSettings,
  type ServerTarget,
  TARGET_LABELS,
  type TlsFiles,
} from "./server.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SERVER_CORE = 1;
const LOAD_CORE = 0;
const MAX_CONNECTIONS = 32;
/**
 * autocannon's rate limit lets each connection send its share of the second
 * back to back, all connections at once, so every connection is one more
 * request queued during those bursts. At 1,000/s and well under a millisecond
 * per answer, evenly arriving requests rarely overlap: two connections keep
 * the bursts close to that. docs/benchmarks.md shows other counts.
 */
const RATE_CONNECTIONS = 2;

const started = Date.now();
function log(line: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${seconds}s] ${line}\n`);
}

function newestMtime(path: string, keep: (file: string) => boolean): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return keep(path) ? stat.mtimeMs : 0;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "examples") continue;
    newest = Math.max(newest, newestMtime(join(path, entry), keep));
  }
  return newest;
}

/** Runs `npm run build` unless dist/ is newer than every source and policy file. */
async function ensureTollgateBuilt(): Promise<void> {
  const entry = `${ROOT}dist/src/cli/main.js`;
  const sources = Math.max(
    newestMtime(`${ROOT}src`, (f) => f.endsWith(".ts")),
    newestMtime(`${ROOT}policies`, (f) => f.endsWith(".ts") || f.endsWith(".yaml")),
    statSync(`${ROOT}package.json`).mtimeMs,
    statSync(`${ROOT}tsconfig.json`).mtimeMs,
  );
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) {
    log("Tollgate's dist/ is up to date; nothing to build");
    return;
  }
  log("building Tollgate (npm run build) …");
  const t = Date.now();
  await run("npm", ["run", "--silent", "build"], { cwd: ROOT, echo: (l) => log(`  ${l}`) });
  log(`built Tollgate in ${((Date.now() - t) / 1000).toFixed(0)}s`);
}

async function writeCertificates(): Promise<TlsFiles> {
  const dir = `${RUN_DIR}tls/`;
  mkdirSync(dir, { recursive: true });
  const bundle = await generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 7 });
  const files = { caFile: `${dir}ca.crt`, certFile: `${dir}tls.crt`, keyFile: `${dir}tls.key` };
  writeFileSync(files.caFile, bundle.caCert);
  writeFileSync(files.certFile, bundle.cert);
  writeFileSync(files.keyFile, bundle.key, { mode: 0o600 });
  return { ...files, ca: bundle.caCert };
}

/** CEL policies in the engine (test/bench/cel.ts), on dist/ and the same core. */
async function runCelBench(quick: boolean): Promise<CelFigures> {
  const { stdout } = await run(
    "taskset",
    [
      "-c",
      String(SERVER_CORE),
      process.execPath,
      "--import",
      "tsx",
      "test/bench/cel.ts",
      "--json",
      "--dist",
      ...(quick ? ["--time", "500"] : []),
    ],
    { cwd: ROOT },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as CelFigures;
}

async function runEngineBench(
  profileDir: string | undefined,
  quick: boolean,
): Promise<EngineResults> {
  const profile = profileDir
    ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name=engine.cpuprofile"]
    : [];
  const { stdout } = await run(
    "taskset",
    [
      "-c",
      String(SERVER_CORE),
      process.execPath,
      ...profile,
      "--import",
      "tsx",
      "test/bench/engine.ts",
      "--json",
      "--dist",
      ...(quick ? ["--time", "500"] : []),
    ],
    { cwd: ROOT },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as EngineResults;
}

const round = (value: number, digits = 0) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

function pickEngine(f: EngineFigures | OpaEngineFigures) {
  return {
    evalsPerSec: round(f.evalsPerSec),
    meanUs: round(f.meanUs, 1),
    p50Us: round(f.p50Us, 1),
    p99Us: round(f.p99Us, 1),
    samples: f.samples,
  };
}

function pickServer(f: ServerFigures) {
  return {
    rps: round(f.rps),
    p50Ms: round(f.p50Ms, 3),
    p90Ms: round(f.p90Ms, 3),
    p99Ms: round(f.p99Ms, 3),
    maxMs: round(f.maxMs, 3),
    meanMs: round(f.meanMs, 3),
    rateRps: round(f.rateRps),
    p99MsAtMax: round(f.p99MsAtMax, 3),
    peakRssMb: round(f.peakRssMb, 1),
    peakRssMbAtRate: round(f.peakRssMbAtRate, 1),
    cpuPercent: round(f.cpuPercent, 1),
    cpuPercentAtMax: round(f.cpuPercentAtMax, 1),
    cpuUsPerRequest: round(f.cpuUsPerRequest, 1),
    loadGeneratorCpuPercent: round(f.loadGeneratorCpuPercent, 1),
    maxConnections: f.maxConnections,
  };
}

function serverSettings(quick: boolean, profileDir: string | undefined): ServerSettings {
  return {
    serverCore: SERVER_CORE,
    loadCore: LOAD_CORE,
    warmupSec: quick ? 2 : 5,
    maxDurationSec: quick ? 3 : 10,
    maxConnections: MAX_CONNECTIONS,
    rate: 1_000,
    rateDurationSec: quick ? 3 : 10,
    rateConnections: RATE_CONNECTIONS,
    profileDir,
  };
}

function pickLimit(f: LimitFigures) {
  return {
    workload: f.workload,
    label: f.label,
    rounds: f.rounds,
    bare: pickServer(f.bare),
    tollgate: pickServer(f.tollgate),
    fractionOfBare: {
      rps: round(f.fraction.rps, 3),
      p50: round(f.fraction.p50, 2),
      p99: round(f.fraction.p99, 2),
      cpuUsPerRequest: round(f.fraction.cpuUsPerRequest, 2),
    },
  };
}

/** The 1-, 5- and 15-minute load averages, two decimals. */
const loadAverage = () => loadavg().map((l) => round(l, 2));

function writeJson(file: string | undefined, results: unknown): void {
  if (!file) return;
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${relative(path)}`);
}

/**
 * `--limit-only`: Tollgate against the bare server and nothing else (no OPA,
 * no engine benchmark), for measuring changes to the server quickly.
 */
async function limitOnlyMain(options: {
  json: string | undefined;
  quick: boolean;
  rounds: number;
  profileDir: string | undefined;
}): Promise<void> {
  await ensureTollgateBuilt();
  const cases = loadCases();
  const tls = await writeCertificates();
  const loadBefore = loadAverage();
  const otherLoad = watchOtherLoad();
  const limit = await benchLimit(limitWorkloads(cases), options.rounds, {
    tls,
    cases,
    opaBinary: "",
    sevenConfigFile: "",
    settings: serverSettings(options.quick, options.profileDir),
    log,
    ticksPerSecond: ticksPerSecond(),
  });
  const others = otherLoad.stop();
  const loadAfter = loadAverage();
  process.stdout.write(`\n${formatLimitFigures(limit)}\n`);
  process.stdout.write(
    `\nload average before ${loadBefore.join(" ")}, after ${loadAfter.join(" ")}; ` +
      `other processes used ${others.percentOfMachine}% of the machine while measuring; ` +
      `wall time ${round((Date.now() - started) / 1000)}s\n`,
  );
  writeJson(options.json, {
    date: new Date().toISOString(),
    command: `npm run bench -- --limit-only --rounds ${options.rounds}${options.quick ? " --quick" : ""}`,
    machine: { ...machineInfo(goBinary(), undefined), loadBefore, loadAfter, otherLoad: others },
    limit: limit.map(pickLimit),
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      "skip-server": { type: "boolean", default: false },
      "skip-cli": { type: "boolean", default: false },
      "quiet-wait": { type: "string", default: "60" },
      "limit-only": { type: "boolean", default: false },
      rounds: { type: "string", default: "1" },
      "skip-multicore": { type: "boolean", default: false },
    },
  });
  const rounds = Math.max(1, Number(values.rounds) || 1);
  stopChildrenOnExit();
  mkdirSync(RUN_DIR, { recursive: true });
  const quick = values.quick ?? false;
  const profileDir = values.profile ? `${RUN_DIR}profiles` : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  if (values["limit-only"]) {
    await limitOnlyMain({ json: values.json, quick, rounds, profileDir });
    return;
  }
  const loadBefore = loadAverage();

  // 1. Build.
  await ensureTollgateBuilt();
  const opa = await ensureOpa(log);

  // 2. Inputs, policy sets, and the verdict check.
  const sets = loadPolicySets();
  checkRegoParameters(sets);
  const sevenConfigFile = `${RUN_DIR}seven-checks.yaml`;
  writePolicySetFile(sevenConfigFile, sets.sevenFile);
  const cases = loadCases();
  const verdicts = await checkEngineVerdicts(sets, cases, opa);
  log(
    `verdicts: Tollgate (whole set and seven checks) and OPA agree on all ${verdicts.cases} cases and ${verdicts.registryPairs} image/registry pairs`,
  );

  // 3. Quiet machine?
  const quietWait = Number(values["quiet-wait"]) * 1000;
  const quiet = await waitForQuiet(quietWait, 20, log);
  log(
    quiet.quiet
      ? `machine quiet (${quiet.busyPercent}% busy)`
      : `machine still busy (${quiet.busyPercent}%): ${quiet.others.join(", ")}; measuring anyway`,
  );
  // Everything else that uses CPU while we measure is recorded for the report.
  const otherLoad = watchOtherLoad();

  // 4. Engines.
  log(`engine: Tollgate evaluate(), pinned to core ${SERVER_CORE} …`);
  const engine = await runEngineBench(profileDir, quick);
  log(`engine: opa bench, pinned to core ${SERVER_CORE} …`);
  const opaEngine = await benchOpaEngine(opa, SERVER_CORE, quick ? 1 : 3);
  log(
    `engine: ${CEL_POLICIES} CEL policies added to the whole set, pinned to core ${SERVER_CORE} …`,
  );
  const cel = await runCelBench(quick);
  log(
    `engine: one simple CEL expression per object costs ${round(cel.perExpressionUs, 2)} µs (target ≤ ${cel.targetUs} µs)`,
  );
  log("engine: hostile inputs (timed here, counted in the unit tests) …");
  const hostile = benchHostileInputs();
  let cli: Awaited<ReturnType<typeof benchCli>> | undefined;
  if (!values["skip-cli"]) {
    log(`cli: tollgate test and fix on ${quick ? "20,000" : "100,000"} objects …`);
    cli = await benchCli(quick ? 20_000 : 100_000);
  }

  // 5. Servers.
  const servers: Partial<Record<ServerTarget, ServerRun>> = {};
  let limit: LimitFigures[] = [];
  let multicore: MulticoreFigures | undefined;
  if (!values["skip-server"]) {
    const tls = await writeCertificates();
    const context = {
      tls,
      cases,
      opaBinary: opa,
      sevenConfigFile,
      settings: serverSettings(quick, profileDir),
      log,
      ticksPerSecond: ticksPerSecond(),
    };
    for (const target of ["tollgate", "tollgate-seven", "opa"] as const) {
      log(`server: ${TARGET_LABELS[target]}`);
      servers[target] = await benchServer(target, context);
    }
    // 6. The limit: Tollgate against a bare node:https server.
    limit = await benchLimit(limitWorkloads(cases), rounds, context);
    // 7. The multi-core row: 1, 2 … N processes, nothing pinned.
    if (!values["skip-multicore"]) {
      log("multicore: tollgate serve as 1, 2 … N processes (node:cluster), nothing pinned …");
      multicore = await benchMulticore({
        rounds: quick ? 1 : 3,
        durationSec: quick ? 3 : 10,
        connections: MAX_CONNECTIONS,
        log,
      });
    }
    // The same verdict from every server on every case.
    const disagreements = cases
      .filter((c) => {
        const answers = Object.values(servers).map((s) => s?.verdicts[c.name]?.allowed);
        return new Set(answers).size !== 1;
      })
      .map((c) => c.name);
    if (disagreements.length > 0) {
      throw new Error(`the servers disagree on: ${disagreements.join(", ")}`);
    }
  }

  // 8. Report.
  const others = otherLoad.stop();
  const loadAfter = loadAverage();
  const wallTimeSec = round((Date.now() - started) / 1000);
  const machine = machineInfo(goBinary(), opa);
  const headline = (r: Record<string, EngineFigures | OpaEngineFigures>) => {
    const f = r[HEADLINE_FIXTURE];
    if (!f) throw new Error(`no figures for ${HEADLINE_FIXTURE}`);
    return f;
  };
  const byFixture = (r: Record<string, EngineFigures | OpaEngineFigures>) =>
    Object.fromEntries(Object.entries(r).map(([id, f]) => [id, pickEngine(f)]));
  const tg = servers.tollgate?.figures;
  const tg7 = servers["tollgate-seven"]?.figures;
  const op = servers.opa?.figures;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : undefined;

  const results = {
    date: new Date().toISOString(),
    command: `npm run bench${values.json ? ` -- --json ${values.json}` : ""}${quick ? " --quick" : ""}`,
    wallTimeSec,
    machine: {
      ...machine,
      busyBeforePercent: quiet.busyPercent,
      loadBefore,
      loadAfter,
      otherLoad: others,
    },
    settings: {
      engineFixture: HEADLINE_FIXTURE,
      serverCore: SERVER_CORE,
      loadGeneratorCore: LOAD_CORE,
      maxConnections: tg?.maxConnections,
      fixedRate: 1_000,
      rateConnections: RATE_CONNECTIONS,
      loadCases: cases.filter((c) => c.load).map((c) => c.name),
    },
    tollgate: {
      policies: sets.full.set.policies.length,
      policiesRegistered: sets.declarations.length,
      engine: {
        fixture: HEADLINE_FIXTURE,
        ...pickEngine(headline(engine.full)),
        byFixture: byFixture(engine.full),
        sevenChecks: { ...pickEngine(headline(engine.seven)), byFixture: byFixture(engine.seven) },
        cel: {
          policies: cel.policies,
          baseUs: round(cel.baseUs, 1),
          withCelUs: round(cel.withCelUs, 1),
          perExpressionUs: round(cel.perExpressionUs, 2),
          targetUs: cel.targetUs,
        },
      },
      server: tg
        ? { ...pickServer(tg), sevenChecks: tg7 ? pickServer(tg7) : undefined }
        : undefined,
    },
    opa: {
      version: pinnedOpaVersion(),
      engine: {
        fixture: HEADLINE_FIXTURE,
        ...pickEngine(headline(opaEngine)),
        byFixture: byFixture(opaEngine),
      },
      server: op ? pickServer(op) : undefined,
    },
    ratios: {
      engine: ratio(headline(engine.full).evalsPerSec, headline(opaEngine).evalsPerSec),
      engineSevenChecks: ratio(headline(engine.seven).evalsPerSec, headline(opaEngine).evalsPerSec),
      server: ratio(tg?.rps, op?.rps),
      serverSevenChecks: ratio(tg7?.rps, op?.rps),
      p99: ratio(op?.p99Ms, tg?.p99Ms),
    },
    limit: limit.map(pickLimit),
    multicore,
    hostileInputs: hostile,
    cli,
    verdicts: {
      equal: true,
      cases: verdicts.cases,
      registryPairs: verdicts.registryPairs,
      byCase: verdicts.byCase,
    },
  };

  // Readable summary.
  const engineRows = [
    [
      "engine (evals/s, mean µs, p99 µs)",
      "Tollgate whole set",
      "Tollgate 7 checks",
      "OPA 7 checks",
      "ratio",
    ],
  ];
  for (const f of ENGINE_FIXTURES) {
    const a = engine.full[f.id];
    const b = engine.seven[f.id];
    const c = opaEngine[f.id];
    engineRows.push([
      f.label,
      a ? `${fmt(a.evalsPerSec)}  ${fmt(a.meanUs, 1)}  ${fmt(a.p99Us, 1)}` : "–",
      b ? `${fmt(b.evalsPerSec)}  ${fmt(b.meanUs, 1)}  ${fmt(b.p99Us, 1)}` : "–",
      c ? `${fmt(c.evalsPerSec)}  ${fmt(c.meanUs, 1)}  ${fmt(c.p99Us, 1)}` : "–",
      a && c ? `${fmt(a.evalsPerSec / c.evalsPerSec, 1)}×` : "–",
    ]);
  }
  process.stdout.write(`\n${table(engineRows)}\n`);
  process.stdout.write(`\n${formatHostileFigures(hostile)}\n`);
  if (cli) process.stdout.write(`\n${formatCliFigures(cli)}\n`);
  if (tg && op) {
    const rows = [
      [
        "HTTPS server (one core)",
        "Tollgate whole set",
        "Tollgate 7 checks",
        "OPA 7 checks",
        "ratio",
      ],
    ];
    const line = (
      label: string,
      pick: (f: ServerFigures) => number,
      digits: number,
      better: "higher" | "lower",
    ) => {
      const values3 = [tg, tg7, op].map((f) => (f ? pick(f) : undefined));
      const [a, , c] = values3;
      const r =
        a !== undefined && c !== undefined ? (better === "higher" ? a / c : c / a) : undefined;
      rows.push([
        label,
        ...values3.map((v) => fmt(v, digits)),
        r === undefined ? "" : `${fmt(r, 1)}×`,
      ]);
    };
    line("max throughput (AdmissionReviews/s)", (f) => f.rps, 0, "higher");
    line("p50 at 1,000/s (ms)", (f) => f.p50Ms, 3, "lower");
    line("p90 at 1,000/s (ms)", (f) => f.p90Ms, 3, "lower");
    line("p99 at 1,000/s (ms)", (f) => f.p99Ms, 3, "lower");
    line("max at 1,000/s (ms)", (f) => f.maxMs, 3, "lower");
    line("CPU at 1,000/s (% of a core)", (f) => f.cpuPercent, 1, "lower");
    line("CPU per request at max (µs)", (f) => f.cpuUsPerRequest, 1, "lower");
    line("peak RSS at 1,000/s (MB)", (f) => f.peakRssMbAtRate, 1, "lower");
    line("peak RSS, max throughput (MB)", (f) => f.peakRssMb, 1, "lower");
    line("load generator CPU at max (%)", (f) => f.loadGeneratorCpuPercent, 0, "lower");
    process.stdout.write(`\n${table(rows)}\n`);
  }
  if (limit.length > 0) process.stdout.write(`\n${formatLimitFigures(limit)}\n`);
  if (multicore) process.stdout.write(`\n${formatMulticoreFigures(multicore)}\n`);
  process.stdout.write(
    `\nratio = Tollgate (whole default set: ${sets.full.set.policies.length} of ${sets.declarations.length} policies, the rest off by default) over OPA (seven checks); ` +
      `verdicts equal on ${verdicts.cases} cases and ${verdicts.registryPairs} image/registry pairs.\n` +
      `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${machine.go}, OPA ${results.opa.version}; ` +
      `load average before ${loadBefore.join(" ")}, after ${loadAfter.join(" ")}; ` +
      `other processes used ${others.percentOfMachine}% of the machine while measuring` +
      `${others.top.length > 0 ? ` (${others.top.map((o) => `${o.name} ${o.cpuSec}s`).join(", ")})` : ""}; ` +
      `wall time ${wallTimeSec}s\n`,
  );
  writeJson(values.json, results);
  if (profileDir)
    log(`CPU profiles in ${relative(profileDir)} (summarise with test/bench/profile.ts)`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`\nbench failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
