import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  type AuditLogger,
  parseInterval,
  startBackgroundAudit,
} from "../../src/audit/background.js";
import { deployment, FakeReportApi, FakeSource, policiesOf, tidyNamespace } from "./fakes.js";

describe("parseInterval", () => {
  it.each([
    ["30s", 30_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["45", 45_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  it.each(["", "5s", "abc", "10 m", "1h-5m"])("rejects %j", (text) => {
    expect(() => parseInterval(text)).toThrow();
  });
});

function quietLogger(): AuditLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (_o, m) => lines.push(`info ${m}`),
    warn: (_o, m) => lines.push(`warn ${m}`),
    error: (o, m) => lines.push(`error ${m} ${JSON.stringify(o)}`),
  };
}

describe("startBackgroundAudit", () => {
  const objects = [...tidyNamespace("a"), deployment("a", "web", { privileged: true })];

  it("runs on schedule, writes reports, updates metrics, and never overlaps runs", async () => {
    const source = new FakeSource(objects);
    source.delayMs = 15; // each page takes a while, longer than the interval
    let active = 0;
    let maxActive = 0;
    const realList = source.list.bind(source);
    source.list = async function* (...args) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        yield* realList(...args);
      } finally {
        active--;
      }
    };
    const registry = new Registry();
    const reports = new FakeReportApi();
    let runs = 0;
    const done = new Promise<void>((resolve) => {
      const audit = startBackgroundAudit({
        source,
        reports,
        policies: () => policiesOf(["privileged"]),
        intervalMs: 1,
        initialDelayMs: 0,
        registry,
        logger: quietLogger(),
        onRunFinished: ({ ok }) => {
          expect(ok).toBe(true);
          if (++runs === 3) void audit.stop().then(resolve);
        },
      });
    });
    await done;
    expect(maxActive).toBe(1);
    expect(reports.store.size).toBe(2);
    const text = await registry.metrics();
    expect(text).toContain('tollgate_audit_findings{action="deny"} 1');
    expect(text).toContain('tollgate_audit_runs_total{result="success"} 3');
    expect(text).toMatch(/tollgate_audit_last_run_timestamp_seconds \d+/);
    expect(text).toMatch(/tollgate_audit_duration_seconds \d/);
    expect(text).toContain('tollgate_audit_checklist_items{status="fail"}');
  });

  it("counts and logs failed runs, and stop() waits for the current run", async () => {
    const source = new FakeSource(objects);
    source.list = async function* () {
      yield* [];
      throw new Error("boom");
    };
    const registry = new Registry();
    const logger = quietLogger();
    await new Promise<void>((resolve) => {
      const audit = startBackgroundAudit({
        source,
        policies: () => policiesOf(["privileged"]),
        intervalMs: 60_000,
        initialDelayMs: 0,
        registry,
        logger,
        onRunFinished: ({ ok }) => {
          expect(ok).toBe(false);
          void audit.stop().then(resolve);
        },
      });
    });
    expect(await registry.metrics()).toContain('tollgate_audit_runs_total{result="error"} 1');
    expect(
      logger.lines.some((l) => l.includes("background audit failed") && l.includes("boom")),
    ).toBe(true);
  });

  it("reuses metrics already registered on the registry", () => {
    const registry = new Registry();
    const options = {
      source: new FakeSource([]),
      policies: () => policiesOf(["privileged"]),
      intervalMs: 60_000,
      initialDelayMs: 60_000,
      registry,
      logger: quietLogger(),
    };
    const a = startBackgroundAudit(options);
    const b = startBackgroundAudit(options);
    void a.stop();
    void b.stop();
    expect(
      registry.getMetricsAsArray().filter((m) => m.name === "tollgate_audit_findings"),
    ).toHaveLength(1);
  });
});
