// CPU per AdmissionReview on Tollgate's admission path without the network:
// buildApp from a build's dist/ (default set, decision log at info to a file,
// metrics on), driven in process with inject. TLS and Node's HTTP parser are
// the same for every build and left out, so what differs between two builds
// is what the admission path itself costs. For comparing a change with its
// base on a busy machine: run both builds alternately, pinned to one core,
// and compare medians (CPU time, not wall time, so others' load matters less).
//
//   taskset -c 1 node --import tsx --expose-gc --max-semi-space-size=256 \
//     test/bench/admission-path.ts <checkout> [--requests N] [--batches B]
//
// Prints one JSON line per load: CPU µs per request (median and least of the
// batches) and, with --expose-gc and a young generation large enough that
// 500 requests collect nothing, the bytes allocated per request, which does
// not depend on the machine's load at all (inject's own share included, the
// same for every build).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { admissionReview, loadCases, uidOf } from "./lib/fixtures.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "4000" },
    batches: { type: "string", default: "5" },
    log: { type: "string", default: "/dev/null" },
  },
});
const checkout = resolve(positionals[0] ?? ".");
const dist = `${checkout}/dist/src`;

const { buildApp } = await import(`${dist}/server/app.js`);
const { createLogger } = await import(`${dist}/server/logger.js`);
const serverPolicies = await import(`${dist}/server/policies.js`);
// Checkouts before the webhook's loader was renamed call it loadPolicies.
const livePolicies = serverPolicies.livePolicies ?? serverPolicies.loadPolicies;
const { createReadiness } = await import(`${dist}/server/health.js`);
const { defaultModeOnly } = await import(`${dist}/server/mode.js`);
const { Registry } = await import("prom-client");
const { pino } = await import("pino");

const policies = livePolicies(undefined);
const readiness = createReadiness();
const app = buildApp({
  policies: policies.current,
  logger: createLogger({ destination: pino.destination({ dest: values.log, sync: true }) }),
  registry: new Registry(),
  resolveMode: defaultModeOnly,
  readiness,
});
await app.ready();

const cases = loadCases();
const deployment = cases.find((c) => c.name === "deployment-allowed");
if (!deployment) throw new Error("no deployment-allowed case");
const loads: Record<string, string> = {
  example: readFileSync(new URL("../../examples/admission-review.json", import.meta.url), "utf8"),
  deployment: JSON.stringify(admissionReview(deployment.object, uidOf(deployment.name))),
};

const requests = Number(values.requests);
const batches = Number(values.batches);
for (const [name, body] of Object.entries(loads)) {
  const send = () =>
    app.inject({
      method: "POST",
      url: "/validate?mode=enforce",
      headers: { "content-type": "application/json" },
      payload: body,
    });
  const first = await send();
  if (first.statusCode !== 200) throw new Error(`${name}: HTTP ${first.statusCode}: ${first.body}`);
  for (let i = 0; i < requests / 4; i++) await send();
  const perRequest: number[] = [];
  for (let b = 0; b < batches; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) await send();
    const used = process.cpuUsage(before);
    perRequest.push((used.user + used.system) / requests);
  }
  perRequest.sort((a, b) => a - b);
  let allocatedKb: number | undefined;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      gc();
      const before = getHeapStatistics().used_heap_size;
      for (let i = 0; i < 500; i++) await send();
      samples.push((getHeapStatistics().used_heap_size - before) / 500 / 1024);
    }
    allocatedKb = Math.round(Math.min(...samples) * 10) / 10;
  }
  const heap = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      load: name,
      cpuUsPerRequest: Math.round((perRequest[batches >> 1] ?? 0) * 10) / 10,
      leastCpuUs: Math.round((perRequest[0] ?? 0) * 10) / 10,
      allocatedKbPerRequest: allocatedKb,
      batches: perRequest.map((v) => Math.round(v * 10) / 10),
      rssMb: Math.round(heap.rss / 2 ** 20),
    })}\n`,
  );
}
await app.close();
