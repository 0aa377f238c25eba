import type { Reporter, ReporterContext } from "../cli/formats/reporter.js";
import type { InputProblem } from "../cli/inputs.js";
import { isAllowed, type ResourceResult, type Summary } from "../cli/report.js";
import type {
  PatchOperation,
  PolicyStatus,
  RequestSkipReason,
  SkipReason,
  Violation,
} from "../engine/index.js";
import { warningText } from "../vap/index.js";

/** One element of `results` in `--format json`; the shape is documented in docs/cli.md. */
export interface JsonResult {
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  source: { file: string; document: number; item?: number; template?: string };
  allowed: boolean;
  /** Why no policy was looked at (then `policies` is empty); absent when they were. */
  skipped?: RequestSkipReason;
  /**
   * What became of each policy, in the engine's order; `exceptions` names the
   * PolicyExceptions (`namespace/name`) that covered its findings, when any did.
   */
  policies: {
    policy: string;
    status: PolicyStatus;
    reason?: SkipReason;
    exceptions?: string[];
  }[];
  /** The engine's violations, without the resource (given above) and with `null` for no container. */
  violations: (Omit<Violation, "resource" | "container"> & { container: string | null })[];
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

/** An input that could not be used, in `errors`; no file for an error that stopped the run. */
export interface JsonError {
  file?: string;
  document?: number;
  line?: number;
  message: string;
}

/** The whole `--format json` document. */
export interface JsonReport {
  results: JsonResult[];
  errors: JsonError[];
  summary: Summary & { errors: number };
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
    policies: verdict.results.map(({ policy, status, reason, excepted }) => {
      const exceptions = [
        ...new Set(excepted.map((v) => `${v.exception.namespace}/${v.exception.name}`)),
      ];
      return {
        policy,
        status,
        ...(reason === undefined ? {} : { reason }),
        ...(exceptions.length > 0 ? { exceptions } : {}),
      };
    }),
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

export function toJsonError(problem: InputProblem): JsonError {
  return {
    file: problem.source,
    ...(problem.document !== undefined ? { document: problem.document } : {}),
    ...(problem.line !== undefined ? { line: problem.line } : {}),
    message: problem.message.replace(/:\s*$/, ""),
  };
}

/**
 * `{"results": [...], "errors": [...], "summary": {...}}`, one result per
 * line, written as each result arrives.
 */
export function jsonReporter(context: ReporterContext): Reporter {
  const { write } = context;
  let first = true;
  write('{"results":[');
  return {
    add(result) {
      write(`${first ? "\n" : ",\n"}${JSON.stringify(toJsonResult(result))}`);
      first = false;
    },
    end(problems, summary, failure) {
      const errors = problems.map((p) => JSON.stringify(toJsonError(p)));
      if (failure !== undefined) errors.push(JSON.stringify({ message: failure }));
      write(
        `${first ? "" : "\n"}],\n"errors":[${errors.length > 0 ? `\n${errors.join(",\n")}\n` : ""}],\n` +
          `"summary":${JSON.stringify({ ...summary, errors: errors.length })}}\n`,
      );
    },
  };
}
