// The Grafana dashboard of deploy/components/monitoring: it parses, and every
// query names only metrics that a real `tollgate serve` with the background
// audit exports on /metrics (read from the running server, not from a list
// kept by hand), so a renamed metric breaks this test rather than a panel.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startBackgroundAudit } from "../../src/audit/background.js";
import { startServer } from "../../src/server/main.js";
import { FakeReportApi, FakeSource, tidyNamespace } from "../audit/fakes.js";
import { LogCapture } from "../server/support.js";
import { REPO } from "./render.js";

const DASHBOARD = `${REPO}deploy/components/monitoring/dashboard.json`;
const dir = mkdtempSync(join(tmpdir(), "tollgate-dashboard-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  ...["sum", "min", "max", "avg", "count", "rate", "increase", "irate", "time", "abs"],
  ...["histogram_quantile", "by", "without", "on", "ignoring", "and", "or", "unless", "offset"],
]);

/** Metric names in a PromQL expression: identifiers outside {…}, strings and [ranges]. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, ""); // label lists
  const names = [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0]);
  return names.filter((n) => !PROMQL_WORDS.has(n) && !/^\d/.test(n));
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

/** Every series name a /metrics text can hold, from its TYPE lines. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram")
      for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(`${name}${s}`);
  }
  return names;
}

async function liveMetrics(): Promise<Set<string>> {
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    stateDir: dir,
    signals: false,
    drainDelayMs: 0,
    namespaces: "none",
    logger: new LogCapture().logger,
    companions: [
      ({ policies, registry, logger }) =>
        startBackgroundAudit({
          source: new FakeSource(tidyNamespace("a")),
          reports: new FakeReportApi(),
          policies,
          registry,
          logger,
          intervalMs: 3_600_000,
          initialDelayMs: 0,
        }),
    ],
  });
  try {
    // Until the first audit has run, its counters have no series yet.
    for (let attempt = 0; attempt < 300; attempt++) {
      const reply = await server.app.inject({ method: "GET", url: "/metrics" });
      if (reply.body.includes('tollgate_audit_runs_total{result="success"}')) {
        return exported(reply.body);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the background audit did not finish a run within 30 s");
  } finally {
    await server.shutdown("test");
  }
}

describe("deploy/components/monitoring/dashboard.json", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[]; uid: string };
  const panels = panelsOf(dashboard.panels);

  it("has panels, each with at least one query", () => {
    expect(dashboard.uid).toBe("tollgate");
    expect(panels.length).toBeGreaterThan(8);
    for (const panel of panels) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });

  it("queries only metrics a running Tollgate exports", async () => {
    const names = await liveMetrics();
    expect(names).toContain("tollgate_certificate_expiry_timestamp_seconds");
    expect(names).toContain("tollgate_audit_last_run_timestamp_seconds");
    for (const panel of panels) {
      for (const { expr } of panel.targets ?? []) {
        const used = metricNames(expr);
        expect(used.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of used) expect(names, `${panel.title}: ${name}`).toContain(name);
      }
    }
  }, 60_000);

  it("finds metric names the way PromQL reads them", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, phase) (rate(tollgate_admission_duration_seconds_bucket{phase="x"}[$__rate_interval])))',
      ),
    ).toEqual(["tollgate_admission_duration_seconds_bucket"]);
    expect(metricNames("time() - max(tollgate_audit_last_run_timestamp_seconds)")).toEqual([
      "tollgate_audit_last_run_timestamp_seconds",
    ]);
    expect(metricNames("(min by (certificate) (a_b) - time()) / 86400")).toEqual(["a_b"]);
  });
});
