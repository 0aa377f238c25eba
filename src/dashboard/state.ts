import type { AuditView } from "./audit-document.js";
import { DashboardModel } from "./model.js";

/** Past runs kept for the score trend: a day of runs every five minutes. */
export const HISTORY_LIMIT = 288;

export interface TrendPoint {
  finishedAt: string;
  percent: number;
  passed: number;
  failed: number;
  findings: number;
}

export type SourceMode = "live" | "file" | "in-cluster";

export interface DashboardStateOptions {
  mode: SourceMode;
  /** Where the audits come from, shown on the page (a file name, an API server URL). */
  label: string;
  /** Produces a fresh audit; without it the page cannot ask for one (in-cluster). */
  load?: (() => Promise<AuditView>) | undefined;
}

/**
 * The audit the dashboard shows, the error of the last attempt, and a
 * bounded trend of past scores, kept in memory only. Loads never overlap: a
 * refresh asked for while one runs waits for that one.
 */
export class DashboardState {
  private model: DashboardModel | undefined;
  private lastError: string | undefined;
  private running: Promise<void> | undefined;
  private readonly history: TrendPoint[] = [];

  constructor(readonly options: DashboardStateOptions) {}

  get refreshable(): boolean {
    return this.options.load !== undefined;
  }

  get current(): DashboardModel | undefined {
    return this.model;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  get loading(): boolean {
    return this.running !== undefined;
  }

  get trend(): readonly TrendPoint[] {
    return this.history;
  }

  /** Shows this audit and adds it to the trend. */
  publish(audit: AuditView): void {
    this.model = new DashboardModel(audit);
    this.lastError = undefined;
    this.history.push({
      finishedAt: audit.finishedAt,
      percent: audit.score.percent,
      passed: audit.score.passed,
      failed: audit.score.failed,
      findings: audit.findings.length,
    });
    if (this.history.length > HISTORY_LIMIT)
      this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }

  /** Records a failed run; the last good audit stays on the page. */
  fail(message: string): void {
    this.lastError = message;
  }

  /** Runs `load` (or joins the run under way) and publishes what it returns. */
  refresh(): Promise<void> {
    const load = this.options.load;
    if (!load) return Promise.reject(new Error("this dashboard cannot refresh its audit"));
    this.running ??= load()
      .then(
        (audit) => this.publish(audit),
        (error: unknown) => this.fail(error instanceof Error ? error.message : String(error)),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
