// The longest the webhook blocks its event loop on one request: the fuzz's
// mutated AdmissionReviews (test/fuzz/mutate.ts, the same seed gives the same
// requests) are answered one at a time by the app with every shipped policy,
// in this process, and for each the event loop's longest delay while it was
// handled (monitorEventLoopDelay, 1 ms resolution) and the CPU it took are
// noted. While one request blocks the loop no other admission is answered.
//
//   npx tsx test/bench/stalls.ts [--seed 20261206] [--count 20000] [--min-bytes 65536] [--top 10]
//
// Requests smaller than --min-bytes are skipped (they never stalled). Prints
// the slowest requests with the fuzz's steps that made them, and the maxima.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DEFAULT_BODY_LIMIT } from "../../src/server/app.js";
import { expectationOf } from "../fuzz/contract.js";
import { corpusObjects } from "../fuzz/corpus.js";
import { mutant } from "../fuzz/mutate.js";
import { seededRandom } from "../fuzz/random.js";
import { fullPolicySet, testApp } from "../server/support.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "20261206" },
    count: { type: "string", default: "20000" },
    "min-bytes": { type: "string", default: "65536" },
    top: { type: "string", default: "10" },
  },
});
const seed = Number(values.seed);
const count = Number(values.count);
const minBytes = Number(values["min-bytes"]);

interface Row {
  index: number;
  bytes: number;
  status: number;
  /** Longest event-loop delay while the request was handled, ms. */
  stallMs: number;
  cpuMs: number;
  wellFormed: boolean;
  steps: string;
}

const { app } = testApp({ policies: fullPolicySet() });
await app.ready();
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const random = seededRandom(seed);
const corpus = corpusObjects();
const rows: Row[] = [];
const started = performance.now();
for (let index = 0; index < count; index++) {
  const m = mutant(corpus, index, random);
  if (m.body.length < minBytes || m.body.length > DEFAULT_BODY_LIMIT) continue;
  // Let the timer that making the mutant delayed fire before measuring.
  await new Promise((done) => setTimeout(done, 5));
  loop.reset();
  const cpu = process.cpuUsage();
  const reply = await app.inject({
    method: "POST",
    url: m.path,
    payload: m.body,
    headers: m.contentType === undefined ? {} : { "content-type": m.contentType },
  });
  await new Promise((done) => setTimeout(done, 2));
  const used = process.cpuUsage(cpu);
  rows.push({
    index,
    bytes: m.body.length,
    status: reply.statusCode,
    stallMs: loop.max / 1e6,
    cpuMs: (used.user + used.system) / 1000,
    wellFormed: expectationOf(m.path, m.contentType, m.body, DEFAULT_BODY_LIMIT) !== undefined,
    steps: m.steps.join(" | "),
  });
}
rows.sort((a, b) => b.stallMs - a.stallMs);
const load = (await import("node:os")).loadavg()[0]?.toFixed(1);
process.stdout.write(
  `stalls: seed ${seed}, ${count} mutants, ${rows.length} of ${minBytes} bytes or more answered in ${((performance.now() - started) / 1000).toFixed(0)} s, load average ${load}\n`,
);
for (const r of rows.slice(0, Number(values.top))) {
  process.stdout.write(
    `  #${r.index} stall ${r.stallMs.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms, ${r.bytes} bytes, ${r.status}${r.wellFormed ? "" : " (malformed)"}: ${r.steps.slice(0, 240)}\n`,
  );
}
const cpuSorted = rows.map((r) => r.cpuMs).sort((a, b) => b - a);
process.stdout.write(
  `stalls: longest ${rows[0]?.stallMs.toFixed(0) ?? 0} ms; most CPU for one request ${cpuSorted[0]?.toFixed(0) ?? 0} ms\n`,
);
await app.close();
