// The CLI on a large input: `tollgate test` (table and JSON, from a file and
// from stdin) and `tollgate fix` on 100,000 objects, each run as its own
// process of the built CLI (dist/), timed by the clock and measured by its
// peak RSS (getrusage maxrss, reported by the process itself as it exits).
//
//   npx tsx test/bench/cli.ts [--count N] [--json FILE]   (npm run build first; also run by `npm run bench`)
import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeCorpus } from "./lib/corpus.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = `${ROOT}dist/src/cli/main.js`;

/** Targets of issue 13, checked on every run. */
export const CLI_TARGETS = { resourcesPerSec: 5_000, peakRssMb: 300, fixOverTest: 2 };

// Loaded before the CLI: reports the process's own peak RSS (KiB) and CPU
// time (µs) on fd 3 as it exits. CPU time says what the clock cannot on a
// busy machine: objects per CPU-second is what one free core would give.
const REPORT_RSS = `data:text/javascript,${encodeURIComponent(
  'import { writeSync } from "node:fs"; process.on("exit", () => { try { const u = process.resourceUsage(); writeSync(3, u.maxRSS + " " + (u.userCPUTime + u.systemCPUTime)); } catch {} });',
)}`;

export interface CliRun {
  name: string;
  seconds: number;
  resourcesPerSec: number;
  cpuSeconds: number;
  resourcesPerCpuSec: number;
  peakRssMb: number;
  exitCode: number;
  /** The 1-minute load average as the run ended: how much the clock was shared. */
  loadAverage: number;
}

async function runOnce(name: string, args: string[], stdinFile: string | undefined, count: number) {
  const stdin = stdinFile ? openSync(stdinFile, "r") : "ignore";
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["--import", REPORT_RSS, CLI, ...args], {
    cwd: ROOT,
    stdio: [stdin, "ignore", "ignore", "pipe"],
  });
  let rss = "";
  child.stdio[3]?.on("data", (chunk: Buffer) => {
    rss += chunk.toString();
  });
  const exitCode = await new Promise<number>((resolve) =>
    child.on("close", (c) => resolve(c ?? -1)),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (typeof stdin === "number") closeSync(stdin);
  const [maxRss = 0, cpuUs = 0] = rss.trim().split(" ").map(Number);
  const cpuSeconds = cpuUs / 1e6;
  return {
    name,
    seconds: Math.round(seconds * 100) / 100,
    resourcesPerSec: Math.round(count / seconds),
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    resourcesPerCpuSec: Math.round(count / cpuSeconds),
    peakRssMb: Math.round(maxRss / 1024),
    exitCode,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  } satisfies CliRun;
}

export async function benchCli(
  count = 100_000,
): Promise<{ count: number; bytes: number; runs: CliRun[] }> {
  const corpus = await writeCorpus(`${ROOT}test/bench/.run/cli/corpus-${count}.yaml`, count);
  const runs: CliRun[] = [];
  const cases: [string, string[], string | undefined][] = [
    ["test, table, file", ["test", corpus], undefined],
    ["test, json, file", ["test", "-o", "json", corpus], undefined],
    ["test, table, stdin", ["test", "-"], corpus],
    ["test, json, stdin", ["test", "-o", "json", "-"], corpus],
    ["fix, file", ["fix", corpus], undefined],
  ];
  for (const [name, args, stdin] of cases) runs.push(await runOnce(name, args, stdin, count));
  const { statSync } = await import("node:fs");
  return { count, bytes: statSync(corpus).size, runs };
}

export function formatCliFigures(result: Awaited<ReturnType<typeof benchCli>>): string {
  const test = result.runs.find((r) => r.name === "test, table, file");
  const lines = [
    `CLI on ${result.count.toLocaleString("en-US")} objects (${(result.bytes / 2 ** 20).toFixed(1)} MiB)   seconds   objects/s   CPU s   objects/CPU s   peak RSS MB   exit   load`,
  ];
  for (const r of result.runs) {
    lines.push(
      `  ${r.name.padEnd(22)} ${r.seconds.toFixed(2).padStart(8)} ${r.resourcesPerSec.toLocaleString("en-US").padStart(11)} ${r.cpuSeconds.toFixed(2).padStart(7)} ${r.resourcesPerCpuSec.toLocaleString("en-US").padStart(15)} ${String(r.peakRssMb).padStart(13)} ${String(r.exitCode).padStart(6)} ${r.loadAverage.toFixed(1).padStart(6)}`,
    );
  }
  const fix = result.runs.find((r) => r.name === "fix, file");
  const t = CLI_TARGETS;
  if (test && fix) {
    // Both from this run, on the same file: CPU time is what the target is judged by.
    const ratio = fix.cpuSeconds / test.cpuSeconds;
    lines.push(
      `  fix ÷ test (table, file): ${fix.cpuSeconds.toFixed(2)} ÷ ${test.cpuSeconds.toFixed(2)} CPU s = ${ratio.toFixed(2)}× in CPU time (${ratio <= t.fixOverTest ? "meets" : "misses"} the target), ${(fix.seconds / test.seconds).toFixed(2)}× by the clock; load ${test.loadAverage.toFixed(1)} and ${fix.loadAverage.toFixed(1)} as they ended`,
    );
  }
  const tests = result.runs.filter((r) => r.name.startsWith("test"));
  if (tests.length > 0) {
    const verdict = (ok: boolean) => (ok ? "meets" : "misses");
    const wall = Math.min(...tests.map((r) => r.resourcesPerSec));
    const perCpu = Math.min(...tests.map((r) => r.resourcesPerCpuSec));
    const rss = Math.max(...tests.map((r) => r.peakRssMb));
    lines.push(
      `  slowest test run: ${wall.toLocaleString("en-US")} objects/s by the clock (${verdict(wall >= t.resourcesPerSec)} the target), ${perCpu.toLocaleString("en-US")} objects per CPU-second (${verdict(perCpu >= t.resourcesPerSec)}); highest test peak RSS ${rss} MB (${verdict(rss <= t.peakRssMb)})`,
    );
  }
  lines.push(
    `  targets: ≥ ${t.resourcesPerSec.toLocaleString("en-US")} objects/s and ≤ ${t.peakRssMb} MB for test; fix within ${t.fixOverTest}× of test`,
  );
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { count: { type: "string", default: "100000" }, json: { type: "string" } },
  });
  const result = await benchCli(Number(values.count));
  process.stdout.write(`${formatCliFigures(result)}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
}
