// Wall-clock timings of the hostile inputs whose linear behaviour the unit
// tests check by counting work (test/support/work.ts). Here the clock is the
// point: each figure is the whole default policy set evaluating one request.
//
//   npx tsx test/bench/hostile.ts        (also run by `npm run bench`)
import { performance } from "node:perf_hooks";
import { parseQuantity } from "../../src/engine/kit/index.js";
import { defaultSet, objectOf, run } from "../support/policies.js";

const MiB = 2 ** 20;

export interface HostileFigure {
  input: string;
  /** Median of the runs, milliseconds. */
  medianMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timeMs(fn: () => unknown, runs = 5): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function ingressWithHosts(n: number) {
  const hosts = Array.from({ length: n }, (_, i) => `h${i}.example.com`);
  return objectOf(
    JSON.stringify({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "i", namespace: "apps" },
      spec: {
        tls: [{ hosts: [...hosts].reverse(), secretName: "tls" }],
        rules: hosts.map((host) => ({ host })),
      },
    }),
  );
}

function podWithEnvValue(value: string) {
  return objectOf(
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "apps" },
      spec: {
        containers: [
          { name: "app", image: "mcr.microsoft.com/app:1", env: [{ name: "DB_PASSWORD", value }] },
        ],
      },
    }),
  );
}

export function benchHostileInputs(): HostileFigure[] {
  const set = defaultSet();
  const figures: HostileFigure[] = [];
  const add = (input: string, fn: () => unknown) => figures.push({ input, medianMs: timeMs(fn) });
  const ingress = ingressWithHosts(16_000);
  add("Ingress, 16,000 rules × 16,000 TLS hosts", () => run(set, ingress));
  for (const [label, value] of [
    ["env value, 1 MiB of letters", "a".repeat(MiB)],
    ["env value, 1 MiB of letters then ://", `${"a".repeat(MiB)}://`],
    ["env value, 1 MiB of scheme://user:", "a://b:".repeat(MiB / 6)],
    ["env value, 1 MiB of PEM headers", "-----BEGIN ".repeat(MiB / 11)],
  ] as const) {
    const pod = podWithEnvValue(value);
    add(label, () => run(set, pod));
  }
  const nearMiss = `${"1".repeat(MiB)}x`;
  add("parseQuantity, 1 MiB near-miss", () => parseQuantity(nearMiss));
  return figures;
}

export function formatHostileFigures(figures: HostileFigure[]): string {
  const width = Math.max(...figures.map((f) => f.input.length));
  const lines = figures.map(
    (f) => `${f.input.padEnd(width)}  ${f.medianMs.toFixed(1).padStart(8)} ms`,
  );
  return [`${"hostile input (whole default set)".padEnd(width)}  median`, ...lines].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${formatHostileFigures(benchHostileInputs())}\n`);
}
