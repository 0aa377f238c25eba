import { Presets, SingleBar } from "cli-progress";
import { type Command, InvalidArgumentError, Option } from "commander";
import { AuditError } from "../../audit/errors.js";
import {
  type AuditProgress,
  type ClusterSource,
  DEFAULT_LIMITS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_REPORT_API,
  exitCodeOf,
  REPORT_APIS,
  REPORT_FORMATS,
  type ReportApi,
  type ReportApiName,
  runAudit,
  type WriteSummary,
  writeReports,
} from "../../audit/index.js";
import { loadClusterAdapters } from "../../cluster/load.js";
import type { PolicyException } from "../../exceptions/index.js";
import { loadPolicies, type ResolvedPolicySet } from "../../policyset/index.js";
import { JsonAuditWriter } from "../../render/audit-json.js";
import { renderTable } from "../../render/audit-table.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT } from "../errors.js";
import { loadExceptions } from "../exceptions.js";
import { formatProblem } from "../inputs.js";

export const AUDIT_FORMATS = ["table", "json"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export interface AuditCommandOptions {
  kubeconfig?: string | undefined;
  namespaces?: string[] | undefined;
  config?: string | undefined;
  format: AuditFormat;
  writeReports: boolean;
  /** Which report API --write-reports writes; wgpolicyk8s.io when absent. */
  reportApi?: ReportApiName | undefined;
  maxResults: number;
  pageSize: number;
  strict: boolean;
  /**
   * PolicyException files or directories to honour instead of the cluster's
   * (a bad one is reported and the others apply); unset reads the cluster's.
   */
  exceptions?: readonly string[] | undefined;
}

export interface AuditCommandDeps {
  /** The cluster to read and write; defaults to client-node over the kubeconfig. */
  connect?: (
    kubeconfig: string | undefined,
    reportApi: ReportApiName,
  ) => { source: ClusterSource; reports: ReportApi };
  /** The policy set for a --config path; defaults to the shipped policies. */
  loadPolicies?: (config: string | undefined) => ResolvedPolicySet;
  /** Where the progress bar goes; undefined for none. */
  progress?: NodeJS.WritableStream | undefined;
}

function progressBar(stream: NodeJS.WritableStream) {
  const bar = new SingleBar(
    {
      stream,
      format: "{kind} [{bar}] {value}/{total} | kind {step}/{steps}",
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(p: AuditProgress) {
      const total = Math.max(p.total ?? p.done, p.done, 1);
      const payload = { kind: p.kind.padEnd(22), step: p.step, steps: p.steps };
      if (!started) {
        bar.start(total, p.done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

async function connectWithKubeconfig(file: string | undefined, reportApi: ReportApiName) {
  const cluster = await loadClusterAdapters();
  return cluster.kubeAuditAdapters(cluster.auditKubeConfig(file), REPORT_FORMATS[reportApi]);
}

/**
 * `tollgate audit`: reads the cluster, evaluates every object as an
 * admission CREATE, runs the cluster-level checks, prints a table or a
 * streamed JSON document and optionally writes PolicyReports. Returns the
 * exit code: 0 nothing would be denied, 1 something would be denied (or,
 * with --strict, a cluster-level check failed), 2 the audit could not run.
 */
export async function runAuditCommand(
  options: AuditCommandOptions,
  io: CliIO,
  deps: AuditCommandDeps = {},
): Promise<number> {
  const policies = (deps.loadPolicies ?? loadPolicies)(options.config);
  let exceptions: { exceptions: PolicyException[]; notes: string[] } | undefined;
  if (options.exceptions && options.exceptions.length > 0) {
    const loaded = await loadExceptions(options.exceptions, undefined, io);
    const notes = loaded.problems.map((p) => `ignored ${formatProblem(p)}`);
    for (const note of notes) io.stderr(`tollgate: ${note}\n`);
    exceptions = { exceptions: loaded.exceptions, notes };
  }
  const json = options.format === "json" ? new JsonAuditWriter(io.stdout) : undefined;
  const bar = deps.progress ? progressBar(deps.progress) : undefined;
  try {
    const reportApi = options.reportApi ?? DEFAULT_REPORT_API;
    const { source, reports } = deps.connect
      ? deps.connect(options.kubeconfig, reportApi)
      : await connectWithKubeconfig(options.kubeconfig, reportApi);
    await json?.start({
      endpoint: source.endpoint,
      policySet: policies.source,
      namespaces: options.namespaces,
      maxResults: options.maxResults,
      startedAt: new Date(),
    });
    const result = await runAudit(source, {
      policies,
      namespaces: options.namespaces,
      pageSize: options.pageSize,
      limits: { maxResults: options.maxResults },
      onFinding: json ? (finding) => json.finding(finding) : undefined,
      onProgress: bar ? (p) => bar.update(p) : undefined,
      exceptions,
    });
    bar?.stop();
    let written: WriteSummary | undefined;
    if (options.writeReports) {
      written = await writeReports(reports, result, { maxResults: options.maxResults });
    }
    const exitCode = exitCodeOf(result, options.strict);
    if (json) await json.end(result, { reports: written, exitCode });
    else {
      io.stdout(
        renderTable(result, {
          color: io.color,
          maxResults: options.maxResults,
          reports: written,
          exitCode,
        }),
      );
    }
    return exitCode;
  } catch (error) {
    bar?.stop();
    if (!(error instanceof AuditError)) throw error;
    await json?.fail(error.message, EXIT.error);
    io.stderr(`tollgate: ${error.message}\n`);
    return EXIT.error;
  }
}

function positiveInt(max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    }
    return parsed;
  };
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Parses -n/--namespace: comma lists, repeatable, each a valid namespace name. */
export function namespaceList(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!NAMESPACE_NAME.test(name))
      throw new InvalidArgumentError(`"${name}" is not a namespace name`);
  }
  return [...new Set([...(previous ?? []), ...names])];
}

interface AuditFlags {
  kubeconfig?: string;
  namespace?: string[];
  config?: string;
  format: AuditFormat;
  writeReports?: boolean;
  reportApi: ReportApiName;
  maxResults: number;
  pageSize: number;
  strict?: boolean;
  exceptions?: string[];
}

export function register(program: Command): void {
  program
    .command("audit")
    .description(
      "scan a live cluster against the AKS checklist: what admission would deny, warn or patch, plus cluster-level checks",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use (default: KUBECONFIG, ~/.kube/config, in-cluster)",
    )
    .option(
      "-n, --namespace <names>",
      "namespace to audit; repeat it or give a comma list (default: all namespaces)",
      namespaceList,
    )
    .option("-c, --config <file>", "PolicySet file to apply over the shipped policies")
    .addOption(
      new Option("-o, --format <format>", "output format").choices(AUDIT_FORMATS).default("table"),
    )
    .option(
      "--write-reports",
      "write a report per namespace and one for the cluster: PolicyReport and ClusterPolicyReport (wgpolicyk8s.io/v1alpha2), or Report and ClusterReport with --report-api openreports",
    )
    .addOption(
      new Option(
        "--report-api <api>",
        "the report API --write-reports writes: wgpolicyk8s (wgpolicyk8s.io/v1alpha2) or openreports (openreports.io/v1alpha1)",
      )
        .choices(REPORT_APIS)
        .default(DEFAULT_REPORT_API),
    )
    .option(
      "--max-results <n>",
      "findings kept per namespace (and for the cluster): what each PolicyReport lists; counts and the JSON findings stay complete",
      positiveInt(10_000),
      DEFAULT_LIMITS.maxResults,
    )
    .option("--page-size <n>", "objects per list call", positiveInt(10_000), DEFAULT_PAGE_SIZE)
    .option("--strict", "also exit 1 when a cluster-level check fails")
    .option(
      "--exceptions <path>",
      "PolicyException file or directory to honour instead of the cluster's (repeatable); a bad one is reported and the others still apply",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 nothing would be denied, 1 something would be denied (with --strict: or a\n" +
        "cluster-level check failed), 2 usage, configuration, connection or permission error.\n" +
        "See docs/audit.md.",
    )
    .action(async (flags: AuditFlags, command: Command) => {
      const io = ioOf(command);
      const code = await runAuditCommand(
        {
          kubeconfig: flags.kubeconfig,
          namespaces: flags.namespace,
          config: flags.config,
          format: flags.format,
          writeReports: flags.writeReports === true,
          reportApi: flags.reportApi,
          maxResults: flags.maxResults,
          pageSize: flags.pageSize,
          strict: flags.strict === true,
          exceptions: flags.exceptions,
        },
        io,
        { progress: process.stderr.isTTY ? process.stderr : undefined },
      );
      setExitCode(command, code);
    });
}
