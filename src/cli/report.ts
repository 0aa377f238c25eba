import { styleText } from "node:util";
import type {
  Action,
  ChecklistRef,
  PatchOperation,
  PolicyStatus,
  RequestSkipReason,
  ResourceRef,
  Severity,
  SkipReason,
  Verdict,
  Violation,
} from "../engine/index.js";
import { denialText, type VapDecision, warningText } from "../vap/index.js";
import { describeResource } from "./resources.js";

/** Where an evaluated object came from. */
export interface ResultSource {
  file: string;
  /** 1-based document index in the file. */
  document: number;
  /** Index in the `items` of a List document. */
  item: number | undefined;
  /** The chart template, for `helm template` output. */
  template: string | undefined;
}

/** One object's verdict, as `tollgate test` reports it. */
export interface ResourceResult {
  resource: ResourceRef;
  source: ResultSource;
  verdict: Verdict;
  /** Failed validations of the ValidatingAdmissionPolicies given with the inputs. */
  admissionPolicies?: VapDecision[];
}

/** Admitted by Tollgate and by every ValidatingAdmissionPolicy binding with the Deny action. */
export function isAllowed(result: ResourceResult): boolean {
  return result.verdict.allowed && !vapDenies(result);
}

function vapDenies(result: ResourceResult): boolean {
  return (result.admissionPolicies ?? []).some((d) => d.actions.includes("Deny"));
}

function vapWarns(result: ResourceResult): boolean {
  return (result.admissionPolicies ?? []).some((d) => d.actions.includes("Warn"));
}

/** One element of the `--format json` array; the shape is documented in docs/cli.md. */
export interface JsonResult {
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  source: { file: string; document: number; item?: number; template?: string };
  allowed: boolean;
  /** Why no policy was looked at (then `policies` is empty); absent when they were. */
  skipped?: RequestSkipReason;
  /** What became of each policy, in the engine's order. */
  policies: { policy: string; status: PolicyStatus; reason?: SkipReason }[];
  violations: {
    policy: string;
    title: string;
    checklist: ChecklistRef;
    severity: Severity;
    action: Action;
    message: string;
    path: string;
    container: string | null;
  }[];
  warnings: string[];
  patch: PatchOperation[];
  /** Failed ValidatingAdmissionPolicy validations; present when policies were given. */
  admissionPolicies?: {
    policy: string;
    binding: string;
    actions: string[];
    message: string;
    reason: string;
  }[];
}

export interface Summary {
  resources: number;
  denied: number;
  warned: number;
  patched: number;
}

function isWarned(verdict: Verdict): boolean {
  return verdict.warnings.length > 0 || verdict.violations.some((v) => v.action === "warn");
}

export function summarize(results: readonly ResourceResult[]): Summary {
  return {
    resources: results.length,
    denied: results.filter((r) => !isAllowed(r)).length,
    warned: results.filter((r) => isAllowed(r) && (isWarned(r.verdict) || vapWarns(r))).length,
    patched: results.filter((r) => r.verdict.patch.length > 0).length,
  };
}

export function toJsonResult(result: ResourceResult): JsonResult {
  const { resource, source, verdict } = result;
  return {
    resource: {
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      namespace: resource.namespace ?? null,
      name: resource.name,
    },
    source: {
      file: source.file,
      document: source.document,
      ...(source.item !== undefined ? { item: source.item } : {}),
      ...(source.template !== undefined ? { template: source.template } : {}),
    },
    allowed: isAllowed(result),
    ...(verdict.skipped !== undefined ? { skipped: verdict.skipped } : {}),
    policies: verdict.results.map(({ policy, status, reason }) =>
      reason === undefined ? { policy, status } : { policy, status, reason },
    ),
    violations: verdict.violations.map((v) => ({
      policy: v.policy,
      title: v.title,
      checklist: v.checklist,
      severity: v.severity,
      action: v.action,
      message: v.message,
      path: v.path,
      container: v.container ?? null,
    })),
    warnings: [
      ...verdict.warnings,
      ...(result.admissionPolicies ?? [])
        .filter((d) => d.actions.includes("Warn"))
        .map(warningText),
    ],
    patch: verdict.patch,
    ...(result.admissionPolicies ? { admissionPolicies: result.admissionPolicies } : {}),
  };
}

export function formatJson(results: readonly ResourceResult[]): string {
  return `${JSON.stringify(results.map(toJsonResult), null, 2)}\n`;
}

type Style = Parameters<typeof styleText>[0];

function painter(color: boolean): (style: Style, text: string) => string {
  return color ? (style, text) => styleText(style, text) : (_style, text) => text;
}

/** `examples/web.yaml, document 2, items[0], template chart/templates/web.yaml` */
export function describeSource(source: ResultSource): string {
  let text = `${source.file}, document ${source.document}`;
  if (source.item !== undefined) text += `, items[${source.item}]`;
  if (source.template !== undefined) text += `, template ${source.template}`;
  return text;
}

function describeOperation(op: PatchOperation): string {
  return op.op === "remove"
    ? `remove ${op.path}`
    : `${op.op} ${op.path}: ${JSON.stringify(op.value)}`;
}

/** Denials first: they decide the exit code. */
const ACTION_ORDER: readonly Action[] = ["deny", "warn", "audit"];

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

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function formatResource(result: ResourceResult, paint: ReturnType<typeof painter>): string[] {
  const { verdict } = result;
  const status = !isAllowed(result)
    ? paint(["bold", "red"], pad("DENIED", STATUS_WIDTH))
    : isWarned(verdict) || vapWarns(result)
      ? paint(["bold", "yellow"], pad("WARNED", STATUS_WIDTH))
      : paint(["bold", "green"], pad("ADMITTED", STATUS_WIDTH));
  const lines = [
    `${status}${paint("bold", describeResource(result.resource))}  ${paint("dim", `(${describeSource(result.source)})`)}`,
  ];
  // Labels are padded before painting so that escape codes do not skew columns.
  const detail = (label: string, text: string, style?: Style) => {
    const padded = pad(label, LABEL_WIDTH);
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
    detail(
      action,
      `${paint("bold", `vap/${d.policy}`)}  ${text}`,
      ({ deny: "red", warn: "yellow", audit: "cyan" } as const)[action],
    );
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
  const actionStyle: Record<Action, Style> = { deny: "red", warn: "yellow", audit: "cyan" };
  const byAction = [...verdict.violations].sort(
    (a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action),
  );
  for (const v of byAction) {
    detail(v.action, `${paint("bold", v.policy)}  ${withoutResource(v)}`, actionStyle[v.action]);
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

function plural(count: number, word: string): string {
  if (count === 1) return `${count} ${word}`;
  return `${count} ${word.endsWith("y") ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

export function formatSummary(summary: Summary, inputProblems: number): string {
  let line = `${plural(summary.resources, "resource")}: ${summary.denied} denied, ${summary.warned} warned, ${summary.patched} patched`;
  if (inputProblems > 0) line += `; ${plural(inputProblems, "input problem")} (see stderr)`;
  return line;
}

/** The readable report: one block per resource, then a summary line. */
export function formatTable(
  results: readonly ResourceResult[],
  options: { color: boolean; inputProblems: number },
): string {
  const paint = painter(options.color);
  const blocks = results.map((r) => formatResource(r, paint).join("\n"));
  const summary = formatSummary(summarize(results), options.inputProblems);
  return `${[...blocks, paint("bold", summary)].join("\n\n")}\n`;
}
