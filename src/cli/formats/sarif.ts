import { isAbsolute, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Sarif from "sarif";
import {
  type Action,
  describeChecklist,
  type Severity,
  type Violation,
} from "../../engine/index.js";
import type { LoadedPolicy } from "../../policyset/index.js";
import { denialText, warningText } from "../../vap/index.js";
import { formatProblem, type InputProblem, STDIN_NAME } from "../inputs.js";
import type { ResourceResult } from "../report.js";
import { resourceLabel } from "../resources.js";
import type { Reporter, ReporterContext } from "./reporter.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

const LEVEL: Record<Action, Sarif.Result.level> = { deny: "error", warn: "warning", audit: "note" };

/** GitHub code scanning sorts security results by this score (0–10). */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
};

function rule(policy: LoadedPolicy): Sarif.ReportingDescriptor {
  const d = policy.declaration;
  const checklist = describeChecklist(d.checklist);
  return {
    id: d.id,
    shortDescription: { text: d.title },
    fullDescription: { text: d.description },
    help: {
      text: `${d.description}\n\nAKS checklist: ${checklist}. Each result's message says how to fix it.`,
    },
    defaultConfiguration: {
      enabled: d.enabled,
      level: d.type === "mutate" ? "note" : LEVEL[d.action],
    },
    properties: {
      severity: d.severity,
      "security-severity": SECURITY_SEVERITY[d.severity],
      checklist: d.checklist.map(({ section, item, coverage }) => ({ section, item, coverage })),
      tags: ["kubernetes", "security", ...new Set(d.checklist.map((m) => m.section))],
    },
  };
}

/** A file as a URI reference: relative paths stay relative (to the working directory). */
export function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(sep).map(encodeURIComponent).join("/");
}

function location(file: string, line: number | undefined): Sarif.Location[] {
  // Standard input is no artifact anyone can open: the logical location has to do.
  if (file === STDIN_NAME) return [];
  return [
    {
      physicalLocation: {
        artifactLocation: { uri: artifactUri(file) },
        ...(line !== undefined ? { region: { startLine: line } } : {}),
      },
    },
  ];
}

function violationResult(
  result: ResourceResult,
  v: Violation,
  ruleIndex: number | undefined,
): Sarif.Result {
  const [physical] = location(result.source.file, result.lineOf?.(v.path));
  return {
    ruleId: v.policy,
    ...(ruleIndex !== undefined ? { ruleIndex } : {}),
    level: LEVEL[v.action],
    message: { text: v.message },
    locations: [
      {
        ...physical,
        logicalLocations: [
          {
            fullyQualifiedName: `${resourceLabel(result.resource)}: ${v.path}`,
            kind: "member",
          },
        ],
      },
    ],
    properties: { action: v.action, severity: v.severity, path: v.path },
  };
}

function notification(problem: InputProblem): Sarif.Notification {
  return {
    level: "error",
    message: { text: formatProblem(problem) },
    locations: location(problem.source, problem.line),
  };
}

/**
 * SARIF 2.1.0: one run, a rule per policy of the set with its help text, a
 * result per violation at the file and line of its field; input problems
 * are the invocation's notifications. Results are written as they come.
 */
export function sarifReporter(context: ReporterContext): Reporter {
  const { write } = context;
  const ruleIndex = new Map(context.policies.map((p, i) => [p.declaration.id, i]));
  const driver: Sarif.ToolComponent = {
    name: "tollgate",
    version: context.version,
    rules: context.policies.map(rule),
  };
  const head = JSON.stringify({
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [{ tool: { driver }, results: [] }],
  });
  // Everything up to the results array, which stays open while results stream.
  write(`${head.slice(0, head.length - "]}]}".length)}`);
  let first = true;
  const emit = (r: Sarif.Result) => {
    write(`${first ? "\n" : ",\n"}${JSON.stringify(r)}`);
    first = false;
  };
  return {
    add(result) {
      for (const v of result.verdict.violations) {
        emit(violationResult(result, v, ruleIndex.get(v.policy)));
      }
      for (const d of result.admissionPolicies ?? []) {
        const deny = d.actions.includes("Deny");
        emit({
          ruleId: `vap/${d.policy}`,
          level: deny ? "error" : d.actions.includes("Warn") ? "warning" : "note",
          message: { text: deny ? denialText(d) : warningText(d) },
          locations: location(result.source.file, result.lineOf?.("")),
        });
      }
    },
    end(problems, _summary, failure) {
      const notifications = problems.map(notification);
      if (failure !== undefined) notifications.push({ level: "error", message: { text: failure } });
      const invocation: Sarif.Invocation = {
        executionSuccessful: notifications.length === 0,
        toolExecutionNotifications: notifications,
      };
      write(`${first ? "" : "\n"}],"invocations":[${JSON.stringify(invocation)}]}]}\n`);
    },
  };
}
