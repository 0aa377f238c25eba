import { type AuditFinding, type AuditResult, exitCodeOf } from "../audit/index.js";
import { JsonAuditWriter } from "../render/audit-json.js";
import { parseAuditDocument } from "./audit-document.js";
import type { DashboardState } from "./state.js";

/**
 * Findings of one background run the in-cluster dashboard keeps, so that
 * the webhook's memory stays bounded; counts and the score stay complete.
 */
export const MAX_BACKGROUND_FINDINGS = 50_000;

/**
 * Hooks for the background audit that show each run on the dashboard: the
 * findings are collected as found, then the run is written as the same
 * audit JSON `tollgate audit --format json` prints and read back through the
 * one adapter, so both dashboards show exactly the same thing.
 */
export function feedDashboard(state: DashboardState) {
  let findings: AuditFinding[] = [];
  let dropped = 0;
  return {
    onFinding(finding: AuditFinding) {
      if (findings.length < MAX_BACKGROUND_FINDINGS) findings.push(finding);
      else dropped++;
    },
    async onRunFinished(outcome: { ok: boolean; error?: unknown; result?: AuditResult }) {
      const kept = findings;
      const lost = dropped;
      findings = [];
      dropped = 0;
      if (!outcome.ok || !outcome.result) {
        const error = outcome.error;
        state.fail(error instanceof Error ? error.message : String(error ?? "the audit failed"));
        return;
      }
      const result = outcome.result;
      if (lost > 0) {
        result.notes.push(
          `the dashboard lists the first ${kept.length} findings; ${lost} more are counted only`,
        );
      }
      const chunks: string[] = [];
      const writer = new JsonAuditWriter((text) => {
        chunks.push(text);
      });
      await writer.start({
        endpoint: result.endpoint,
        policySet: result.policySet,
        namespaces: result.namespaceFilter,
        maxResults: MAX_BACKGROUND_FINDINGS,
        startedAt: result.startedAt,
      });
      for (const finding of kept) await writer.finding(finding);
      await writer.end(result, { exitCode: exitCodeOf(result) });
      state.publish(parseAuditDocument(chunks.join(""), "the background audit"));
    },
  };
}
