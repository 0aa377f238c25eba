import { Counter, Gauge, type Registry } from "prom-client";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { type ReportApi, type WriteSummary, writeReports } from "./reports.js";
import { type AuditResult, runAudit } from "./run.js";
import { summaryOf } from "./summary.js";
import { DEFAULT_LIMITS } from "./tally.js";
import { AUDIT_ACTIONS, type AuditFinding, type ClusterSource } from "./types.js";

/** The subset of pino the background audit logs through. */
export interface AuditLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface BackgroundAuditOptions {
  source: ClusterSource;
  /** Where PolicyReports go; without it the audit only updates metrics and logs. */
  reports?: ReportApi | undefined;
  /** Read at the start of every run, so a reloaded policy set takes effect. */
  policies: () => ResolvedPolicySet;
  intervalMs: number;
  registry: Registry;
  logger: AuditLogger;
  maxResults?: number | undefined;
  pageSize?: number | undefined;
  /** Each wait is intervalMs × (1 ± jitter); default 0.1. */
  jitter?: number | undefined;
  /** Wait before the first run; default a random part of min(interval, 30 s). */
  initialDelayMs?: number | undefined;
  random?: (() => number) | undefined;
  /** Called after every run, with its outcome; for tests and extra wiring. */
  onRunFinished?:
    | ((outcome: { ok: boolean; error?: unknown; result?: AuditResult }) => void | Promise<void>)
    | undefined;
  /** Called for every finding of a run, as `runAudit` finds it (the in-cluster dashboard). */
  onFinding?: ((finding: AuditFinding) => void) | undefined;
}

export interface BackgroundAudit {
  /** Cancels the next run, stops the current one between pages and waits for it. */
  stop(): Promise<void>;
}

const MIN_INTERVAL_MS = 10_000;

/** `30s`, `10m`, `1h`, `1h30m`, `2d`; a bare number is seconds. At least 10 s. */
export function parseInterval(text: string): number {
  const trimmed = text.trim();
  const units: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
  let ms = 0;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
      throw new Error(`"${text}" is not an interval; use e.g. 30s, 10m, 1h or 1h30m`);
    }
    for (const p of parts) ms += Number(p[1]) * (units[p[2] as string] as number);
  }
  if (!(ms >= MIN_INTERVAL_MS)) {
    throw new Error(`"${text}" is too short for an audit interval; the minimum is 10s`);
  }
  return ms;
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * Audits the cluster on a jittered schedule and writes PolicyReports. Runs
 * never overlap: the next one is scheduled only when the previous one has
 * finished. Metrics are registered on the given registry (reused when they
 * already exist there).
 */
export function startBackgroundAudit(options: BackgroundAuditOptions): BackgroundAudit {
  const { registry, logger } = options;
  const random = options.random ?? Math.random;
  const jitter = options.jitter ?? 0.1;
  const metrics = {
    findings: gauge(
      registry,
      "tollgate_audit_findings",
      "Findings of the last background audit, by action (deny, warn, audit, patch, report)",
      ["action"],
    ),
    lastRun: gauge(
      registry,
      "tollgate_audit_last_run_timestamp_seconds",
      "Unix time the last successful background audit finished",
    ),
    duration: gauge(
      registry,
      "tollgate_audit_duration_seconds",
      "How long the last background audit took, successful or not",
    ),
    runs: counter(registry, "tollgate_audit_runs_total", "Background audits run, by result", [
      "result",
    ]),
    items: gauge(
      registry,
      "tollgate_audit_checklist_items",
      "Checklist items by status in the last background audit (pass, fail, out-of-reach)",
      ["status"],
    ),
    score: gauge(
      registry,
      "tollgate_audit_checklist_score_ratio",
      "Passing share of the checklist items in reach, each weighed by its coverage (partial counts half), 0 to 1, in the last background audit",
    ),
  };

  const abort = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const runOnce = async () => {
    const started = performance.now();
    try {
      const maxResults = options.maxResults ?? DEFAULT_LIMITS.maxResults;
      const result = await runAudit(options.source, {
        policies: options.policies(),
        pageSize: options.pageSize,
        limits: { maxResults },
        signal: abort.signal,
        onFinding: options.onFinding,
      });
      let written: WriteSummary | undefined;
      if (options.reports) written = await writeReports(options.reports, result, { maxResults });
      for (const action of AUDIT_ACTIONS) {
        metrics.findings.set({ action }, result.tally.totals[action]);
      }
      const { score } = result;
      metrics.items.set({ status: "pass" }, score.passed);
      metrics.items.set({ status: "fail" }, score.failed);
      metrics.items.set({ status: "out-of-reach" }, score.outOfReach);
      metrics.score.set(score.ratio);
      metrics.lastRun.set(Date.now() / 1000);
      metrics.runs.inc({ result: "success" });
      const { checks: _checks, ...summary } = summaryOf(result);
      logger.info(
        { audit: { ...summary, score: score.percent, reports: written } },
        "background audit finished",
      );
      await options.onRunFinished?.({ ok: true, result });
    } catch (error) {
      if (stopped) return;
      metrics.runs.inc({ result: "error" });
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ err: message }, "background audit failed");
      options.onRunFinished?.({ ok: false, error });
    } finally {
      metrics.duration.set((performance.now() - started) / 1000);
    }
  };

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = runOnce().finally(() => {
        running = undefined;
        schedule(options.intervalMs * (1 + jitter * (2 * random() - 1)));
      });
    }, delay);
    timer.unref();
  };

  schedule(options.initialDelayMs ?? random() * Math.min(options.intervalMs, 30_000));
  logger.info({ intervalMs: options.intervalMs }, "background audit scheduled");

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}
