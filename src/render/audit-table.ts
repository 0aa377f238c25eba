import type {
  ActionCounts,
  AuditFinding,
  AuditResult,
  ItemScore,
  WriteSummary,
} from "../audit/index.js";
import { PARTIAL_WEIGHT } from "../audit/score.js";
import { count as n, painter, plural } from "./text.js";

export interface TableOptions {
  color: boolean;
  maxResults: number;
  reports?: WriteSummary | undefined;
  exitCode: number;
  /** Failing items shown with examples; the rest are listed by name. */
  maxItems?: number | undefined;
}

function actions(byAction: ActionCounts): string {
  const parts: string[] = [];
  if (byAction.deny) parts.push(`${n(byAction.deny)} deny`);
  if (byAction.warn) parts.push(`${n(byAction.warn)} warn`);
  if (byAction.audit) parts.push(`${n(byAction.audit)} audit`);
  if (byAction.patch) parts.push(`${n(byAction.patch)} patch`);
  if (byAction.report) parts.push(`${n(byAction.report)} cluster-check`);
  return parts.join(", ");
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function example(f: AuditFinding): string {
  const where = f.resource?.namespace ? `${f.resource.namespace}: ` : "";
  return shorten(`${where}${f.message}`, 220);
}

function rank(item: ItemScore): number {
  return item.byAction.deny * 1e6 + item.findings;
}

/** A summary for people: totals, the score per section, failing items with examples. */
export function renderTable(result: AuditResult, options: TableOptions): string {
  const { tally, score } = result;
  const out: string[] = [];
  const paint = painter(options.color);
  const bold = (t: string) => paint("bold", t);
  const red = (t: string) => paint("red", t);
  const green = (t: string) => paint("green", t);

  const version = result.serverVersion?.gitVersion ?? "version unknown";
  out.push(
    bold(`Tollgate audit of ${result.endpoint}`),
    `Kubernetes ${version}; policy set: ${result.policySet}; ` +
      (result.namespaceFilter
        ? `namespaces: ${result.namespaceFilter.join(", ")}`
        : "all namespaces"),
  );
  let listed = 0;
  let evaluated = 0;
  let covered = 0;
  let exempt = 0;
  let deleting = 0;
  for (const k of tally.kinds.values()) {
    listed += k.listed;
    evaluated += k.evaluated;
    covered += k.coveredByOwner;
    exempt += k.exempt;
    deleting += k.deleting;
  }
  out.push(
    `Read ${plural(listed, "object")} in ${(result.durationMs / 1000).toFixed(1)}s: ` +
      `${n(evaluated)} evaluated, ${n(covered)} covered by their controller's findings, ` +
      `${n(exempt)} in exempt namespaces` +
      (deleting > 0 ? `, ${n(deleting)} in namespaces being deleted` : "") +
      `; ${plural(result.namespaces.length, "namespace")} audited` +
      (result.exemptNamespaces.length > 0
        ? ` (exempt: ${result.exemptNamespaces.join(", ")})`
        : ""),
    "",
  );

  const t = tally.totals;
  let excepted = 0;
  for (const count of tally.excepted.values()) excepted += count;
  out.push(
    `${bold("Would be denied:")} ${t.deny > 0 ? red(plural(tally.deniedObjects, "object")) : green("nothing")}` +
      (t.deny > 0 ? ` (${plural(t.deny, "deny finding")})` : "") +
      "   " +
      `warned: ${n(t.warn)}   audited: ${n(t.audit)}   patched: ${n(t.patch)}   ` +
      `cluster-check failures: ${n(t.report)}` +
      (excepted > 0 ? `   excepted: ${n(excepted)}` : ""),
    "",
  );

  const partial = score.items.filter(
    (i) => i.status !== "out-of-reach" && i.coverage === "partial",
  );
  out.push(
    bold(
      `Checklist score: ${score.passed} of ${score.inReach} items in reach pass (${score.percent}%` +
        (partial.length > 0
          ? `; ${plural(partial.length, "partly judged item")} weighing ${PARTIAL_WEIGHT}`
          : "") +
        `); ${score.outOfReach} of ${score.items.length} are out of reach or were not judged`,
    ),
  );
  const width = Math.max(...score.sections.map((s) => s.section.length), 7) + 2;
  out.push(`  ${"SECTION".padEnd(width)}PASS  FAIL  OUT OF REACH`);
  for (const s of score.sections) {
    out.push(
      `  ${s.section.padEnd(width)}${String(s.pass).padStart(4)}  ${String(s.fail).padStart(4)}  ${String(s.outOfReach).padStart(12)}`,
    );
  }
  out.push("");

  const failing = score.items.filter((i) => i.status === "fail").sort((a, b) => rank(b) - rank(a));
  if (failing.length > 0) {
    out.push(bold("Failing items"));
    const shown = failing.slice(0, options.maxItems ?? 20);
    for (const item of shown) {
      const by = [
        ...item.policies.map((p) => `policy ${p}`),
        ...item.checks.map((c) => `check ${c}`),
      ];
      const byText =
        by.length > 3 ? `${by.slice(0, 3).join(", ")} +${by.length - 3} more` : by.join(", ");
      out.push(
        `  ${red("FAIL")} ${item.section} / ${item.item}${item.coverage === "partial" ? " (partly judged)" : ""}: ` +
          `${actions(item.byAction)} (${byText})`,
      );
      for (const f of item.examples) out.push(`       - ${example(f)}`);
    }
    if (failing.length > shown.length) {
      out.push(`  … and ${plural(failing.length - shown.length, "more failing item")}`);
    }
    out.push("");
  }

  const busiest = result.namespaces
    .map((ns) => ({ ns, b: tally.bucket(ns) }))
    .filter(({ b }) => b.counts.fail + b.counts.warn > 0)
    .sort((a, b) => b.b.counts.fail - a.b.counts.fail || b.b.counts.warn - a.b.counts.warn)
    .slice(0, 10);
  if (busiest.length > 0) {
    out.push(bold("Namespaces with the most findings"));
    const w = Math.max(...busiest.map(({ ns }) => ns.length)) + 2;
    for (const { ns, b } of busiest) {
      out.push(
        `  ${ns.padEnd(w)}${n(b.counts.fail).padStart(6)} fail ${n(b.counts.warn).padStart(6)} warn ${n(b.counts.pass).padStart(7)} pass`,
      );
    }
    out.push("");
  }

  const held = result.exceptions.filter((e) => e.findings > 0 || e.expiresSoon || e.expired);
  if (held.length > 0) {
    out.push(bold("PolicyExceptions"));
    for (const e of held) {
      const until = e.expires ? ` until ${e.expires.slice(0, 10)}` : "";
      const flag = e.expired
        ? red(" EXPIRED, applied to nothing")
        : e.expiresSoon
          ? red(" EXPIRES WITHIN 14 DAYS")
          : "";
      out.push(
        `  ${e.namespace}/${e.name}${until}${flag}: ${plural(e.findings, "finding")} excepted (${e.policies.join(", ")}); ${e.reason}`,
      );
    }
    out.push("");
  }

  const notes = [...result.notes];
  if (result.version.status !== "pass") notes.push(`version: ${result.version.message}`);
  const r = options.reports;
  if (r) {
    notes.push(
      `PolicyReports: ${r.reports} written (${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged), ${r.deleted} stale deleted` +
        (r.skipped > 0 ? `, ${r.skipped} skipped (namespace deleted meanwhile)` : "") +
        (r.omittedResults > 0
          ? `; ${n(r.omittedResults)} less important results left out by --max-results ${options.maxResults} (summary counts include them)`
          : ""),
    );
  }
  if (notes.length > 0) {
    out.push(bold("Notes"));
    for (const note of notes) out.push(`  - ${note}`);
    out.push("");
  }

  out.push(
    options.exitCode === 0
      ? green(`Result: nothing would be denied (exit ${options.exitCode}).`)
      : red(
          t.deny > 0
            ? `Result: ${plural(tally.deniedObjects, "object")} would be denied (exit ${options.exitCode}).`
            : `Result: cluster-level checks failed (exit ${options.exitCode}).`,
        ),
  );
  return `${out.join("\n")}\n`;
}
