// CPU per call of the per-request pieces around the engine, from a build's
// dist/: the AdmissionReview shape check (zod), the decision line (to a file:
// batched as shipped, a write per line, and asynchronous), the child
// logger Fastify makes per request, and the metrics one decision records.
// Each piece alone, in a tight loop, so a piece that costs a microsecond is
// not lost in a whole request's noise. Pinned to one core:
//
//   taskset -c 1 node --import tsx test/bench/request-parts.ts <checkout> [--calls N]
//
// Prints one JSON line per piece: CPU µs per call, least of three batches.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: "string", default: "100000" } },
});
const checkout = resolve(positionals[0] ?? ".");
const dist = `${checkout}/dist/src/server`;
const calls = Number(values.calls);

const { parseAdmissionReview } = await import(`${dist}/admission.js`);
const logging = await import(`${dist}/logger.js`);
const { createLogger } = logging;
/** The decision line as the checkout writes it: its own writer, or (before it had one) pino. */
function decisionWriter(logger: unknown): (fields: Record<string, unknown>) => void {
  if (logging.decisionLine) return logging.decisionLine(logger, "admission decision");
  const twin = logging.unredactedTwin(logger);
  return (fields) => twin.info(fields, "admission decision");
}
const { createMetrics, countViolations } = await import(`${dist}/metrics.js`);
const { Registry } = await import("prom-client");
const { pino } = await import("pino");

function measure(piece: string, call: (i: number) => unknown): void {
  for (let i = 0; i < calls / 10; i++) call(i);
  const batches: number[] = [];
  for (let b = 0; b < 3; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) call(i);
    const used = process.cpuUsage(before);
    batches.push((used.user + used.system) / calls);
  }
  const least = Math.min(...batches);
  process.stdout.write(
    `${JSON.stringify({ piece, cpuUsPerCall: Math.round(least * 100) / 100 })}\n`,
  );
}

const example = JSON.parse(
  readFileSync(new URL("../../examples/admission-review.json", import.meta.url), "utf8"),
);
measure("AdmissionReview shape check (example)", () => parseAdmissionReview(example));

// The decision line routes.ts writes for a denied request, field for field.
const decisionLine = (i: number) => ({
  reqId: `req-${i}`,
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  phase: "validate",
  kind: "Pod",
  namespace: "default",
  name: "nginx",
  operation: "CREATE",
  subResource: undefined,
  mode: "enforce",
  dryRun: false,
  decision: "denied",
  policies: ["privileged", "trusted-registry", "image-tag", "resources", "probes"],
  patched: [],
  excepted: [],
  annotations: undefined,
  durationMs: 0.123,
});
const dir = mkdtempSync(join(tmpdir(), "tollgate-parts-"));
const destinations = {
  "synchronous file, a write per line": () =>
    pino.destination({ dest: join(dir, "sync"), sync: true }),
  "synchronous file, 8 KiB batches (as shipped)": () =>
    pino.destination({ dest: join(dir, "batched"), sync: true, minLength: 8192 }),
  "asynchronous file": () => pino.destination({ dest: join(dir, "async"), sync: false }),
  "/dev/null": () => pino.destination({ dest: "/dev/null", sync: true }),
};
for (const [name, destination] of Object.entries(destinations)) {
  const stream = destination();
  const write = decisionWriter(createLogger({ destination: stream }));
  measure(`decision line, ${name}`, (i) => write(decisionLine(i)));
  stream.flush();
}
const base = createLogger({ destination: pino.destination({ dest: "/dev/null", sync: true }) });
measure("child logger per request (redacting base)", (i) => base.child({ reqId: `req-${i}` }));

const metrics = createMetrics(new Registry(), { processMetrics: false });
const violations = Array.from({ length: 14 }, (_, i) => ({
  policy: `policy-${i % 9}`,
  action: i % 3 === 0 ? "warn" : "deny",
}));
measure("violations counted, 14 of one request", () =>
  countViolations(metrics, violations, "enforce"),
);
measure("requests counter, one inc()", () =>
  metrics.requests.inc({
    operation: "CREATE",
    kind: "Pod",
    mode: "enforce",
    decision: "denied",
    dry_run: "false",
  }),
);
measure("duration histogram, one observe()", () =>
  metrics.duration.observe({ phase: "validate" }, 0.0003),
);
// Let the asynchronous destinations finish before their files go.
await new Promise((done) => setTimeout(done, 500));
rmSync(dir, { recursive: true, force: true });
