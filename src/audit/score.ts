import { CHECKLIST } from "../engine/index.js";
import { type ItemReach, itemKey, OUT_OF_REACH_REASONS } from "./reach.js";
import { type ActionCounts, type ItemTally, zeroActions } from "./tally.js";
import type { AuditFinding } from "./types.js";

export type ItemStatus = "pass" | "fail" | "out-of-reach";

export interface ItemScore {
  section: string;
  item: string;
  status: ItemStatus;
  /** Enabled policies and cluster checks that judged the item. */
  policies: string[];
  checks: string[];
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
  /** passed / inReach, as a whole percentage; 0 when nothing is in reach. */
  percent: number;
  sections: SectionScore[];
  items: ItemScore[];
}

/**
 * Scores every checklist item: `fail` when any finding (of any action) is
 * about it, `pass` when a policy or check covered it and found nothing,
 * `out-of-reach` when nothing in this run can judge it. Checks listed in
 * `unknownChecks` could not run (the server version was unreadable), so an
 * item only they cover is out of reach, with their reason.
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
  return {
    passed,
    failed,
    outOfReach: scored.length - inReach,
    inReach,
    percent: inReach === 0 ? 0 : Math.round((passed / inReach) * 100),
    sections,
    items: scored,
  };
}
