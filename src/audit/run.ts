import { registry } from "../../policies/index.js";
import type { ChecklistRef, CheckOutcome, ClusterCheckDeclaration } from "../engine/index.js";
import {
  type LoadedClusterCheck,
  loadClusterChecks,
  type ResolvedPolicySet,
} from "../policyset/index.js";
import { AuditRun } from "./audit-run.js";
import { judgeClusterChecks } from "./closing-checks.js";
import { listPlannedKinds } from "./listing.js";
import { reachOf } from "./reach.js";
import { type ChecklistScore, scoreChecklist } from "./score.js";
import type { AuditTally, TallyLimits } from "./tally.js";
import type { AuditFinding, AuditProgress, ClusterSource, ServerVersion } from "./types.js";

export { describePatch } from "./evaluate-object.js";

export const DEFAULT_PAGE_SIZE = 500;

export interface AuditOptions {
  policies: ResolvedPolicySet;
  /** The declared cluster checks; the shipped ones (policies/cluster/) when unset. */
  clusterChecks?: readonly LoadedClusterCheck[] | undefined;
  /** Namespaces to audit; undefined audits the whole cluster. */
  namespaces?: readonly string[] | undefined;
  pageSize?: number | undefined;
  limits?: Partial<TallyLimits> | undefined;
  /** Called for every finding, in the order found, whatever the caps; awaited. */
  onFinding?: ((finding: AuditFinding) => void | Promise<void>) | undefined;
  onProgress?: ((progress: AuditProgress) => void) | undefined;
  /** Stops the audit between pages. */
  signal?: AbortSignal | undefined;
  now?: (() => Date) | undefined;
}

/** The server version as the kubernetes-version check judged it. */
export interface VersionVerdict {
  status: "pass" | "fail" | "unknown";
  message: string;
}

/** The cluster check whose outcome is also the result's `version`. */
const VERSION_CHECK = "kubernetes-version";

export interface CheckStatus {
  id: string;
  title: string;
  checklist: ChecklistRef;
  severity: string;
  status: "pass" | "fail" | "unknown";
  findings: number;
  passes: number;
}

export interface AuditResult {
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  endpoint: string;
  serverVersion: ServerVersion | undefined;
  version: VersionVerdict;
  /** Where the policy set came from: a file or "built-in defaults". */
  policySet: string;
  /** The namespaces asked for, or undefined for the whole cluster. */
  namespaceFilter: string[] | undefined;
  /** Audited namespaces (exempt ones excluded), sorted. */
  namespaces: string[];
  /** Exempt namespaces seen; counted for cluster-level checks only. */
  exemptNamespaces: string[];
  tally: AuditTally;
  checks: CheckStatus[];
  score: ChecklistScore;
  notes: string[];
}

/** Notes on what the audit could not see, added once the listing is done. */
function addCoverageNotes(run: AuditRun): void {
  const { deleting, notes } = run;
  if (deleting.size > 0) {
    notes.push(
      `skipped ${deleting.size} namespace${deleting.size === 1 ? "" : "s"} being deleted: ${[...deleting].sort().slice(0, 5).join(", ")}${deleting.size > 5 ? ", …" : ""}`,
    );
  }
}

/** Every cluster check of the run. */
function checksOf(run: AuditRun): ClusterCheckDeclaration[] {
  return run.clusterChecks.map((c) => c.declaration);
}

/** Why each check that could not judge did not: its first `unknown` outcome. */
function unknownChecks(outcomes: ReadonlyMap<string, CheckOutcome[]>): Map<string, string> {
  const unknown = new Map<string, string>();
  for (const [id, list] of outcomes) {
    const first = list.find((o) => o.status === "unknown");
    if (first) unknown.set(id, first.message);
  }
  return unknown;
}

function versionOf(outcomes: ReadonlyMap<string, CheckOutcome[]>): VersionVerdict {
  const outcome = outcomes.get(VERSION_CHECK)?.[0];
  if (!outcome) return { status: "unknown", message: `the ${VERSION_CHECK} check did not run` };
  return { status: outcome.status, message: outcome.message ?? "" };
}

/** Each check's outcome over the whole run. */
function checkStatuses(run: AuditRun, unknown: ReadonlyMap<string, string>): CheckStatus[] {
  return checksOf(run).map((c) => {
    const rule = run.tally.rules.get(c.id);
    const findings = rule?.findings ?? 0;
    const status = findings > 0 ? "fail" : unknown.has(c.id) ? "unknown" : "pass";
    return {
      id: c.id,
      title: c.title,
      checklist: c.checklist,
      severity: c.severity,
      status,
      findings,
      passes: rule?.passes ?? 0,
    };
  });
}

/** Scores every checklist item the policies and checks can reach. */
function scoreRun(run: AuditRun, unknown: ReadonlyMap<string, string>): ChecklistScore {
  const reach = reachOf(
    run.set.policies.map((p) => ({ id: p.declaration.id, checklist: p.declaration.checklist })),
    checksOf(run),
  );
  return scoreChecklist(reach, run.tally.items, unknown);
}

interface Finished {
  startedAt: Date;
  finishedAt: Date;
  serverVersion: ServerVersion | undefined;
  outcomes: ReadonlyMap<string, CheckOutcome[]>;
}

function buildResult(
  run: AuditRun,
  source: ClusterSource,
  options: AuditOptions,
  { startedAt, finishedAt, serverVersion, outcomes }: Finished,
): AuditResult {
  const unknown = unknownChecks(outcomes);
  return {
    startedAt,
    finishedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    endpoint: source.endpoint,
    serverVersion,
    version: versionOf(outcomes),
    policySet: options.policies.source,
    namespaceFilter: options.namespaces ? [...options.namespaces] : undefined,
    namespaces: [...run.audited].sort(),
    exemptNamespaces: [...run.exemptSeen].sort(),
    tally: run.tally,
    checks: checkStatuses(run, unknown),
    score: scoreRun(run, unknown),
    notes: run.notes,
  };
}

/**
 * Audits a live cluster: lists every kind the policy set matches (and what
 * the cluster checks need) page by page, evaluates each object exactly as an
 * admission CREATE in enforce mode, runs the cluster-level checks and scores
 * the checklist. Memory stays bounded: objects are dropped after their page,
 * and only counts, small per-namespace facts and capped findings are kept.
 */
export async function runAudit(source: ClusterSource, options: AuditOptions): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const clusterChecks = options.clusterChecks ?? loadClusterChecks(registry);
  const run = new AuditRun(options.policies.set, clusterChecks, source.listableKinds(), options);
  // A failure here is not fatal: the version check says "unknown".
  const serverVersion = await source.serverVersion();
  run.throwIfAborted();
  await listPlannedKinds(run, source, {
    namespaces: options.namespaces,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    onProgress: options.onProgress,
  });
  const outcomes = await judgeClusterChecks(run, serverVersion);
  addCoverageNotes(run);
  const finishedAt = now();
  return buildResult(run, source, options, { startedAt, finishedAt, serverVersion, outcomes });
}

/**
 * The CLI's exit code for a finished audit: 1 when anything would be
 * denied, or, with `strict`, when any cluster-level check failed; else 0.
 * Cluster checks do not fail the audit by default: most clusters miss some
 * namespace hygiene for a long time, and a CI gate on "would admission
 * break my workloads" must not be red for that.
 */
export function exitCodeOf(result: AuditResult, strict = false): 0 | 1 {
  if (result.tally.totals.deny > 0) return 1;
  if (strict && result.checks.some((c) => c.status === "fail")) return 1;
  return 0;
}
