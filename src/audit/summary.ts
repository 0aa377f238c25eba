import type { AuditResult } from "./run.js";

/** The `summary` member of the JSON document; also what the background audit logs. */
export function summaryOf(result: AuditResult) {
  const { tally } = result;
  return {
    startedAt: result.startedAt.toISOString(),
    finishedAt: result.finishedAt.toISOString(),
    durationMs: result.durationMs,
    serverVersion: result.serverVersion?.gitVersion ?? "unknown",
    version: result.version,
    findings: { ...tally.totals },
    /** Findings PolicyExceptions covered: not in `findings`, admission lets them through. */
    excepted: [...tally.excepted.values()].reduce((a, b) => a + b, 0),
    deniedObjects: tally.deniedObjects,
    objects: Object.fromEntries([...tally.kinds].sort(([a], [b]) => a.localeCompare(b))),
    auditedNamespaces: result.namespaces.length,
    exemptNamespaces: result.exemptNamespaces,
    /** Findings past the per-report cap: in `findings` above, but not in PolicyReports. */
    omittedFromReports: tally.omitted,
    checks: result.checks,
    notes: result.notes,
  };
}
