import type { Reporter, ReporterContext } from "../cli/formats/reporter.js";
import {
  describeSource,
  isAllowed,
  isWarned,
  type ResourceResult,
  type Summary,
} from "../cli/report.js";
import { resourceLabel } from "../cli/resources.js";
import type { Action, PatchOperation, Violation } from "../engine/index.js";
import { denialText, warningText } from "../vap/index.js";
import { type Paint, painter, plural, type Style } from "./text.js";

function describeOperation(op: PatchOperation): string {
  return op.op === "remove"
    ? `remove ${op.path}`
    : `${op.op} ${op.path}: ${JSON.stringify(op.value)}`;
}

/** Denials first: they decide the exit code. */
const ACTION_ORDER: readonly Action[] = ["deny", "warn", "audit"];
const ACTION_STYLE: Record<Action, Style> = { deny: "red", warn: "yellow", audit: "cyan" };

/**
 * The engine prefixes messages with `Kind "name"`; the report's header
 * already names the resource, so the table drops that part.
 */
function withoutResource(v: Violation): string {
  const prefix = `${v.resource.kind} "${v.resource.name}"`;
  if (!v.message.startsWith(prefix)) return v.message;
  return v.message.slice(prefix.length).replace(/^: /, "").trimStart();
}

const STATUS_WIDTH = 10;
const INDENT = "  ";
const LABEL_WIDTH = 8;

function formatResource(result: ResourceResult, paint: Paint): string[] {
  const { verdict } = result;
  const status = !isAllowed(result)
    ? paint(["bold", "red"], "DENIED".padEnd(STATUS_WIDTH))
    : isWarned(result)
      ? paint(["bold", "yellow"], "WARNED".padEnd(STATUS_WIDTH))
      : paint(["bold", "green"], "ADMITTED".padEnd(STATUS_WIDTH));
  const lines = [
    `${status}${paint("bold", resourceLabel(result.resource))}  ${paint("dim", `(${describeSource(result.source)})`)}`,
  ];
  // Labels are padded before painting so that escape codes do not skew columns.
  const detail = (label: string, text: string, style?: Style) => {
    const padded = label.padEnd(LABEL_WIDTH);
    lines.push(`${INDENT}${style ? paint(style, padded) : padded}${text}`);
  };
  const continuation = (text: string) => lines.push(`${INDENT}${" ".repeat(LABEL_WIDTH)}${text}`);

  const decisions = result.admissionPolicies ?? [];
  for (const d of decisions) {
    const action = d.actions.includes("Deny")
      ? "deny"
      : d.actions.includes("Warn")
        ? "warn"
        : "audit";
    const text = action === "deny" ? denialText(d) : warningText(d);
    detail(action, `${paint("bold", `vap/${d.policy}`)}  ${text}`, ACTION_STYLE[action]);
  }
  if (verdict.evaluated.length === 0) {
    if (decisions.length > 0) return lines;
    const why =
      verdict.skipped === "exempt-namespace"
        ? `namespace ${result.resource.namespace} is exempt from every policy`
        : "no policy applies";
    detail("", paint("dim", why));
    return lines;
  }
  const byAction = [...verdict.violations].sort(
    (a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action),
  );
  for (const v of byAction) {
    detail(v.action, `${paint("bold", v.policy)}  ${withoutResource(v)}`, ACTION_STYLE[v.action]);
    if (v.path) continuation(paint("dim", `at ${v.path}`));
  }
  // In enforce mode every warning repeats a warn violation; show only the others.
  const covered = new Set(verdict.violations.map((v) => `${v.policy}: ${v.message}`));
  for (const warning of verdict.warnings) {
    if (!covered.has(warning)) detail("warning", warning, "yellow");
  }
  if (verdict.patch.length > 0) {
    detail("patch", `${paint("bold", verdict.mutatedBy.join(", "))} would apply:`, "green");
    for (const op of verdict.patch) continuation(paint("green", describeOperation(op)));
  }
  if (verdict.violations.length === 0 && verdict.patch.length === 0) {
    detail("", paint("dim", `passes ${plural(verdict.evaluated.length, "applicable policy")}`));
  }
  return lines;
}

export function formatSummary(summary: Summary, inputProblems: number): string {
  let line = `${plural(summary.resources, "resource")}: ${summary.denied} denied, ${summary.warned} warned, ${summary.patched} patched`;
  if (inputProblems > 0) line += `; ${plural(inputProblems, "input problem")} (see stderr)`;
  return line;
}

/** The readable report: one block per resource, blank lines between, then a summary line. */
export function tableReporter(context: ReporterContext): Reporter {
  const paint = painter(context.color);
  return {
    add(result) {
      if (context.quiet && isAllowed(result) && !isWarned(result)) return;
      context.write(`${formatResource(result, paint).join("\n")}\n\n`);
    },
    end(problems, summary) {
      context.write(`${paint("bold", formatSummary(summary, problems.length))}\n`);
    },
  };
}
