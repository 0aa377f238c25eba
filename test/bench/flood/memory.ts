// Loaded into the flooded `tollgate serve` (`node --import`) by npm run flood,
// beside lifetimes.ts: where the server's memory goes under the flood. RSS
// alone cannot tell a V8 heap that grows because garbage is collected late
// from buffers Node holds outside it (external) or memory V8 never sees
// (OpenSSL's per-connection state, malloc's free lists, code, stacks).
//
// Samples process.memoryUsage() every SAMPLE_MS and keeps the sample with
// the highest RSS, the highest of each part, and the garbage collections.
// The figures (MemoryFigures) are written as JSON to $TOLLGATE_FLOOD_MEMORY
// every second and at exit.
import { renameSync, writeFileSync } from "node:fs";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";

export interface MemoryUse {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface MemoryFigures {
  /** The last sample, bytes. */
  latest: MemoryUse;
  /** The sample with the highest RSS, bytes. */
  atPeak: MemoryUse;
  /** The highest of each part over all samples, bytes (not from one instant). */
  highest: MemoryUse;
  /** V8's heap size limit (old space cap plus the young generation), bytes. */
  heapLimit: number;
  gc: { minor: number; major: number; longestPauseMs: number };
}

const SAMPLE_MS = 100;
const PARTS = ["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const;

const zero = (): MemoryUse => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 });
const figures: MemoryFigures = {
  latest: zero(),
  atPeak: zero(),
  highest: zero(),
  heapLimit: getHeapStatistics().heap_size_limit,
  gc: { minor: 0, major: 0, longestPauseMs: 0 },
};

function sample(): void {
  const now = process.memoryUsage();
  figures.latest = Object.fromEntries(PARTS.map((part) => [part, now[part]])) as never;
  if (now.rss > figures.atPeak.rss) figures.atPeak = figures.latest;
  for (const part of PARTS) figures.highest[part] = Math.max(figures.highest[part], now[part]);
}

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) figures.gc.major++;
    else figures.gc.minor++;
    figures.gc.longestPauseMs = Math.max(figures.gc.longestPauseMs, entry.duration);
  }
}).observe({ entryTypes: ["gc"] });

const file = process.env.TOLLGATE_FLOOD_MEMORY;
if (file) {
  setInterval(sample, SAMPLE_MS).unref();
  const write = () => {
    sample();
    writeFileSync(`${file}.tmp`, JSON.stringify(figures));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 1_000).unref();
  process.on("exit", write);
}
