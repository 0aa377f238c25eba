import { CHECKLIST, type ChecklistCoverage } from "../engine/index.js";
import { type ItemReach, itemKey, OUT_OF_REACH_REASONS } from "./reach.js";
import { type ActionCounts, type ItemTally, zeroActions } from "./tally.js";
import type { AuditFinding } from "./types.js";

export type ItemStatus = "pass" | "fail" | "out-of-reach";

/**
 * What an item only partial mappings cover counts for in the score, against
 * 1 for an item a check or a full mapping covers: a seccomp profile says
 * something about runtime security, not all of it.
 */
export const PARTIAL_WEIGHT = 0.5;

/**
 * Why an item in reach is not scored: no policy or check of it judged
 * anything in this run (nothing was of a kind they judge, or every policy
 * of it was skipped, as probes is on a Job).
 */
export const NOT_JUDGED_REASON =
  "nothing in this run was judged by its policies and checks (no object of a kind they judge, or all were skipped)";

export interface ItemScore {
  section: string;
  item: string;
  status: ItemStatus;
  /** Enabled policies and cluster checks that judged the item. */
  policies: string[];
  checks: string[];
  /** How fully they judge it (see ItemReach); unset when nothing does. */
  coverage?: ChecklistCoverage | undefined;
  /** Why an out-of-reach item is not judged. */
  reason?: string | undefined;
  findings: number;
  byAction: ActionCounts;
  /** Evaluations that covered the item; 0 means nothing in the cluster was of a kind it judges. */
  checked: number;
  examples: AuditFinding[];
}

export interface SectionScore {
  section: string;
  pass: number;
  fail: number;
  outOfReach: number;
}

export interface ChecklistScore {
  /** In-reach items without findings. */
  passed: number;
  failed: number;
  outOfReach: number;
  inReach: number;
  /**
   * Passed over in-reach items, each weighed by its coverage (1, or
   * PARTIAL_WEIGHT for partial); 0 when nothing is in reach.
   */
  ratio: number;
  /** `ratio` as a whole percentage. */
  percent: number;
  sections: SectionScore[];
  items: ItemScore[];
}

/**
 * Scores every checklist item: `fail` when any finding (of any action) is
 * about it, `pass` when a policy or check judged it at least once (ran on an
 * object, not skipped) and found nothing, `out-of-reach` when nothing in this
 * run can judge it or nothing did. Checks listed in `unknownChecks` could not
 * run (the server version was unreadable), so an item only they cover is out
 * of reach, with their reason. The percentage weighs each item in reach by
 * its coverage.
 */
export function scoreChecklist(
  reach: readonly ItemReach[],
  items: ReadonlyMap<string, ItemTally>,
  unknownChecks: ReadonlyMap<string, string> = new Map(),
): ChecklistScore {
  const scored: ItemScore[] = reach.map((r) => {
    const tally = items.get(itemKey(r));
    const checks = r.checks.filter((c) => !unknownChecks.has(c));
    const judged = r.policies.length > 0 || checks.length > 0;
    const base = {
      section: r.section,
      item: r.item,
      policies: r.policies,
      checks,
      coverage: r.coverage,
      findings: tally?.findings ?? 0,
      byAction: tally ? { ...tally.byAction } : zeroActions(),
      checked: tally?.checked ?? 0,
      examples: tally?.examples ?? [],
    };
    if (!judged) {
      const unknown = r.checks.map((c) => unknownChecks.get(c)).find(Boolean);
      const reason = unknown ?? OUT_OF_REACH_REASONS[r.outOfReach ?? "api"];
      return { ...base, status: "out-of-reach", reason };
    }
    if (base.checked === 0) return { ...base, status: "out-of-reach", reason: NOT_JUDGED_REASON };
    return { ...base, status: base.findings > 0 ? "fail" : "pass" };
  });
  const sections = Object.keys(CHECKLIST).map((section) => {
    const mine = scored.filter((s) => s.section === section);
    return {
      section,
      pass: mine.filter((s) => s.status === "pass").length,
      fail: mine.filter((s) => s.status === "fail").length,
      outOfReach: mine.filter((s) => s.status === "out-of-reach").length,
    };
  });
  const passed = scored.filter((s) => s.status === "pass").length;
  const failed = scored.filter((s) => s.status === "fail").length;
  const inReach = passed + failed;
  const weight = (s: ItemScore) => (s.coverage === "partial" ? PARTIAL_WEIGHT : 1);
  let passedWeight = 0;
  let inReachWeight = 0;
  for (const s of scored) {
    if (s.status === "out-of-reach") continue;
    inReachWeight += weight(s);
    if (s.status === "pass") passedWeight += weight(s);
  }
  const ratio = inReachWeight === 0 ? 0 : passedWeight / inReachWeight;
  return {
    passed,
    failed,
    outOfReach: scored.length - inReach,
    inReach,
    ratio,
    percent: Math.round(ratio * 100),
    sections,
    items: scored,
  };
}
