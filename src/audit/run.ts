import { registry } from "../../policies/index.js";
import type { ChecklistRef, CheckOutcome, ClusterCheckDeclaration } from "../engine/index.js";
import {
  type LoadedClusterCheck,
  loadClusterChecks,
  type ResolvedPolicySet,
} from "../policyset/index.js";
import { collect, throwIfAborted } from "./collect.js";
import {
  auditExceptionSource,
  type ExceptionStatus,
  exceptionStatuses,
  type HeldExceptions,
  readClusterExceptions,
} from "./exceptions.js";
import { clusterResultOf, judgeClusterCheck } from "./judge-cluster.js";
import { judgeObject } from "./judge-object.js";
import { AuditLedger } from "./ledger.js";
import { type AuditPlan, planAudit } from "./plan.js";
import { reachOf } from "./reach.js";
import { type ChecklistScore, scoreChecklist } from "./score.js";
import { type AuditTally, DEFAULT_LIMITS, type TallyLimits } from "./tally.js";
import type { AuditFinding, AuditProgress, ClusterSource, ServerVersion } from "./types.js";

export { describePatch } from "./evaluate-object.js";

/**
 * Objects per list call. 100 rather than kubectl's 500: a page lives until its
 * objects are judged, and at 100,000 objects on the e2e control plane the CLI
 * peaked at 286 and 334 MiB of RSS with 250 and 244 MiB with 100, for 7 s
 * more of list calls (docs/audit.md, Memory and scale).
 */
export const DEFAULT_PAGE_SIZE = 100;

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
  /**
   * PolicyExceptions to honour (`tollgate audit --exceptions`, already read,
   * with what could not be used). Unset: the cluster's, read through the source.
   */
  exceptions?: HeldExceptions | undefined;
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
  /** The PolicyExceptions honoured, with what each covered and whether it ends soon. */
  exceptions: ExceptionStatus[];
  notes: string[];
}

/** Notes on what the audit could not see or use. */
function notesOf(plan: AuditPlan, ledger: AuditLedger, held: HeldExceptions): string[] {
  const notes = [...plan.notes, ...held.notes];
  const { deleting } = ledger;
  if (deleting.size > 0) {
    notes.push(
      `skipped ${deleting.size} namespace${deleting.size === 1 ? "" : "s"} being deleted: ${[...deleting].sort().slice(0, 5).join(", ")}${deleting.size > 5 ? ", …" : ""}`,
    );
  }
  return notes;
}

/** Every cluster check of the run. */
function checksOf(plan: AuditPlan): ClusterCheckDeclaration[] {
  return plan.clusterChecks.map((c) => c.declaration);
}

/**
 * What the result needs of the cluster checks' outcomes, gathered as they
 * are tallied so the outcomes themselves need not be kept: why each check
 * that could not judge did not (its first `unknown` outcome) and the
 * version check's verdict.
 */
class OutcomeNotes {
  readonly unknown = new Map<string, string>();
  private versionOutcome: CheckOutcome | undefined;

  note(check: string, outcome: CheckOutcome, first: boolean): void {
    if (outcome.status === "unknown" && !this.unknown.has(check)) {
      this.unknown.set(check, outcome.message);
    }
    if (check === VERSION_CHECK && first) this.versionOutcome = outcome;
  }

  get version(): VersionVerdict {
    const outcome = this.versionOutcome;
    if (!outcome) return { status: "unknown", message: `the ${VERSION_CHECK} check did not run` };
    return { status: outcome.status, message: outcome.message ?? "" };
  }
}

/** Each check's outcome over the whole run. */
function checkStatuses(
  plan: AuditPlan,
  tally: AuditTally,
  unknown: ReadonlyMap<string, string>,
): CheckStatus[] {
  return checksOf(plan).map((c) => {
    const rule = tally.rules.get(c.id);
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
function scoreOf(
  plan: AuditPlan,
  tally: AuditTally,
  unknown: ReadonlyMap<string, string>,
): ChecklistScore {
  const reach = reachOf(
    [...plan.items].map(([id, checklist]) => ({ id, checklist })),
    checksOf(plan),
  );
  return scoreChecklist(reach, tally.items, unknown);
}

interface Finished {
  held: HeldExceptions;
  startedAt: Date;
  finishedAt: Date;
  endpoint: string;
  policySet: string;
  serverVersion: ServerVersion | undefined;
  outcomes: OutcomeNotes;
}

/** The result of a finished audit, from its plan and what the tally holds. */
function resultOf(plan: AuditPlan, ledger: AuditLedger, finished: Finished): AuditResult {
  const { startedAt, finishedAt, outcomes } = finished;
  const { tally } = ledger;
  const { unknown } = outcomes;
  return {
    startedAt,
    finishedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    endpoint: finished.endpoint,
    serverVersion: finished.serverVersion,
    version: outcomes.version,
    policySet: finished.policySet,
    namespaceFilter: plan.namespaces ? [...plan.namespaces] : undefined,
    namespaces: [...ledger.audited].sort(),
    exemptNamespaces: [...ledger.exempt].sort(),
    tally,
    checks: checkStatuses(plan, tally, unknown),
    score: scoreOf(plan, tally, unknown),
    exceptions: exceptionStatuses(finished.held.exceptions, {
      mayHold: plan.mayHoldExceptions,
      namespaces: plan.namespaces,
      now: startedAt.getTime(),
      excepted: tally.excepted,
    }),
    notes: notesOf(plan, ledger, finished.held),
  };
}

/** Hands each finding to the caller, in the order found. */
async function emit(
  findings: readonly AuditFinding[],
  onFinding: AuditOptions["onFinding"],
): Promise<void> {
  if (onFinding) for (const finding of findings) await onFinding(finding);
}

/**
 * Audits a live cluster as a pipeline: plan (what to list and evaluate),
 * collect (list every planned kind page by page), judge (each object as an
 * admission CREATE in enforce mode; the cluster checks once everything has
 * been seen) and tally (counts and the most important findings), then
 * scores the checklist. Only the tally grows: objects are dropped as soon as
 * they are judged, and only counts, the checks' small facts and capped
 * findings are kept.
 */
export async function runAudit(source: ClusterSource, options: AuditOptions): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const held =
    options.exceptions ?? (await readClusterExceptions(source, options.namespaces, pageSize));
  throwIfAborted(options.signal);
  const { settings } = options.policies;
  const plan = planAudit(
    options.policies.set,
    options.clusterChecks ?? loadClusterChecks(registry),
    source.listableKinds(),
    {
      namespaces: options.namespaces,
      pageSize,
      exceptions: auditExceptionSource(
        held.exceptions,
        settings.mayHoldExceptions,
        startedAt.getTime(),
      ),
      now: startedAt.getTime(),
      mayHoldExceptions: settings.mayHoldExceptions,
    },
  );
  const ledger = new AuditLedger({ ...DEFAULT_LIMITS, ...options.limits });
  // A failure here is not fatal: the version check says "unknown".
  const serverVersion = await source.serverVersion();
  throwIfAborted(options.signal);
  const listing = collect(source, plan, { onProgress: options.onProgress, signal: options.signal });
  for await (const listed of listing) {
    const judgement = judgeObject(plan, listed);
    ledger.recordObject(listed, judgement);
    await emit(judgement.findings, options.onFinding);
  }
  const namespaces = [...ledger.audited].sort();
  const outcomes = new OutcomeNotes();
  for (const check of plan.clusterChecks) {
    const facts = ledger.takeFacts(check.module.id);
    const judged = judgeClusterCheck(check, facts, namespaces, serverVersion);
    // Each outcome is tallied and streamed on its own and then let go:
    // a check over thousands of workloads never holds all its findings.
    for (let i = 0; i < judged.length; i++) {
      const outcome = judged[i] as CheckOutcome;
      outcomes.note(check.module.id, outcome, i === 0);
      const result = clusterResultOf(check.declaration, outcome);
      if (!result) continue;
      ledger.recordCluster(result);
      if (result.finding) await options.onFinding?.(result.finding);
    }
  }
  return resultOf(plan, ledger, {
    held,
    startedAt,
    finishedAt: now(),
    endpoint: source.endpoint,
    policySet: options.policies.source,
    serverVersion,
    outcomes,
  });
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
