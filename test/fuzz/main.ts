// npm run fuzz [-- --seed <n>] [--count <n>] [--max-seconds <n>] [--concurrency <n>]
//
// Sends mutated AdmissionReviews (test/fuzz/mutate.ts) to a `tollgate serve`
// child on loopback and checks every answer (test/fuzz/contract.ts). Prints
// the seed first, so any run can be replayed; exits 1 when the server
// crashed, answered 5xx, dropped a connection, left a well-formed request
// without a valid AdmissionReview, or the time bound cut the run short.
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_BODY_LIMIT } from "../../src/server/app.js";
import { stopChildrenOnExit } from "../bench/lib/processes.js";
import { startTollgate } from "../bench/lib/tollgate-child.js";
import { campaignHolds, formatFigures, runCampaign } from "./campaign.js";
import type { ServerCloses } from "./server-closes.js";

const SERVER_CLOSES = fileURLToPath(new URL("server-closes.ts", import.meta.url));

/** The connections the server ended itself, by cause, and its longest stall. */
function formatCloses(c: ServerCloses): string {
  const causes = Object.entries(c.causes)
    .map(([cause, n]) => `${cause} ${n}`)
    .join(", ");
  const lines = [
    `  server side: ${c.accepted} connections accepted; ended by the server: ${causes || "none"}; event-loop delay mean ${c.eventLoopDelay.meanMs.toFixed(0)} ms, p99 ${c.eventLoopDelay.p99Ms.toFixed(0)} ms, max ${c.eventLoopDelay.maxMs.toFixed(0)} ms`,
  ];
  for (const e of c.events.slice(0, 40)) {
    lines.push(`    ${new Date(e.at).toISOString()} ${e.cause}`);
  }
  return lines.join("\n");
}

function whole(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number, not ${value}`);
  return Number(value);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      count: { type: "string" },
      "max-seconds": { type: "string" },
      concurrency: { type: "string" },
    },
  });
  const seed = whole("seed", values.seed, randomInt(2 ** 32));
  const count = whole("count", values.count, 100_000);
  const maxSeconds = whole("max-seconds", values["max-seconds"], 1_800);
  const concurrency = Math.max(1, whole("concurrency", values.concurrency, 8));
  process.stdout.write(
    `fuzz: seed ${seed}, ${count} AdmissionReviews, at most ${maxSeconds} s (replay: npm run fuzz -- --seed ${seed} --count ${count})\n`,
  );
  stopChildrenOnExit();
  const closesDir = mkdtempSync(join(tmpdir(), "tollgate-fuzz-"));
  const closesFile = join(closesDir, "closes.json");
  const server = await startTollgate(
    [],
    { TOLLGATE_FUZZ_CLOSES: closesFile },
    { nodeArgs: ["--import", SERVER_CLOSES] },
  );
  try {
    const figures = await runCampaign({
      url: server.url,
      ca: server.ca,
      seed,
      count,
      deadlineMs: maxSeconds * 1000,
      concurrency,
      bodyLimit: DEFAULT_BODY_LIMIT,
      progress: (done) => {
        if (done % 10_000 === 0) process.stderr.write(`fuzz: ${done} sent\n`);
      },
    });
    const exit = await Promise.race([server.started.exited, Promise.resolve(undefined)]);
    const errors = server.logLines("error");
    process.stdout.write(`${formatFigures(figures)}\n`);
    process.stdout.write(
      `  server: ${exit === undefined ? "still running" : `EXITED (${exit})`}, ${errors.length} error log lines\n`,
    );
    for (const line of errors.slice(0, 5)) process.stdout.write(`    ${line.slice(0, 400)}\n`);
    await new Promise((done) => setTimeout(done, 1_500));
    process.stdout.write(`${formatCloses(JSON.parse(readFileSync(closesFile, "utf8")))}\n`);
    const holds = campaignHolds(figures, count) && exit === undefined && errors.length === 0;
    process.stdout.write(holds ? "fuzz: holds\n" : "fuzz: FAILED\n");
    return holds ? 0 : 1;
  } finally {
    await server.stop();
    rmSync(closesDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`fuzz: ${error.message}\n`);
    process.exit(2);
  },
);
