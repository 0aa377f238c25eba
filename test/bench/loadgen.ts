// Load generator, run by server.ts in its own process (pinned to the core the
// server does not use): sends the AdmissionReviews of a requests file round
// robin over keep-alive TLS connections with autocannon, and prints what it
// measured as one JSON line.
//
//   node --import tsx test/bench/loadgen.ts <config.json>
//
// Latencies are recorded from every response at full resolution here:
// autocannon's own histogram counts whole milliseconds, too coarse for a
// sub-millisecond p99.
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

export interface LoadConfig {
  url: string;
  /** JSON file: [{ path, body }] sent round robin by every connection. */
  requestsFile: string;
  connections: number;
  durationSec: number;
  /** Requests per second over all connections; unset means as fast as possible. */
  overallRate?: number;
}

export interface LoadResult {
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSec: number;
  rps: number;
  /** Share of its core the load generator itself used. */
  generatorCpuPercent: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export async function generateLoad(
  config: LoadConfig,
  onStart: () => void = () => {},
): Promise<LoadResult> {
  const requests = JSON.parse(readFileSync(config.requestsFile, "utf8")) as {
    path: string;
    body: string;
  }[];
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  onStart();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const instance = autocannon({
    url: config.url,
    servername: "localhost",
    connections: config.connections,
    pipelining: 1,
    duration: config.durationSec,
    timeout: 10,
    ...(config.overallRate ? { overallRate: config.overallRate } : {}),
    requests: requests.map((r) => ({
      method: "POST",
      path: r.path,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: r.body,
    })),
  });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode < 200 || statusCode >= 300) return;
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = responseTime;
  });
  const result = await instance;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, count).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    completed: count,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSec: elapsed,
    rps: count / elapsed,
    generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
    latencyMs: {
      mean: count > 0 ? sum / count : Number.NaN,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[count - 1] ?? Number.NaN,
    },
  };
}

const isMain = import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: loadgen.ts <config.json>");
  const config = JSON.parse(readFileSync(file, "utf8")) as LoadConfig;
  // The first line marks the start of the load, so the caller can time the server's CPU use.
  const result = await generateLoad(config, () => process.stdout.write('{"event":"start"}\n'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
