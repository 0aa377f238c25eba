import { createHash } from "node:crypto";
import { AuditError, ReportConflictError } from "./errors.js";
import type { AuditResult } from "./run.js";
import { type Bucket, CLUSTER_BUCKET } from "./tally.js";
import type { AuditFinding, ReportResult } from "./types.js";

/**
 * The report APIs the audit can write: the Policy WG's wgpolicyk8s.io
 * (PolicyReport, ClusterPolicyReport) and its successor openreports.io
 * (Report, ClusterReport). The results have the same fields in both.
 */
export const REPORT_APIS = ["wgpolicyk8s", "openreports"] as const;
export type ReportApiName = (typeof REPORT_APIS)[number];
export const DEFAULT_REPORT_API: ReportApiName = "wgpolicyk8s";

export interface ReportFormat {
  api: ReportApiName;
  group: string;
  version: string;
  apiVersion: string;
  namespacedKind: ReportKind;
  clusterKind: ReportKind;
  /** Where the CRDs come from, for the error a cluster without them gets. */
  crdHint: string;
}

export const REPORT_FORMATS: Readonly<Record<ReportApiName, ReportFormat>> = {
  wgpolicyk8s: {
    api: "wgpolicyk8s",
    group: "wgpolicyk8s.io",
    version: "v1alpha2",
    apiVersion: "wgpolicyk8s.io/v1alpha2",
    namespacedKind: "PolicyReport",
    clusterKind: "ClusterPolicyReport",
    crdHint:
      "the PolicyReport CRDs (wgpolicyk8s.io) are not installed; apply deploy/crds/policyreports.yaml (or install a tool that ships them) first, or choose --report-api openreports",
  },
  openreports: {
    api: "openreports",
    group: "openreports.io",
    version: "v1alpha1",
    apiVersion: "openreports.io/v1alpha1",
    namespacedKind: "Report",
    clusterKind: "ClusterReport",
    crdHint:
      "the OpenReports CRDs (openreports.io) are not installed; apply config/install.yaml of github.com/openreports/reports-api (docs/audit.md) first, or choose --report-api wgpolicyk8s",
  },
};

/** Resource names (plurals) of every report kind. */
export const REPORT_PLURALS: Readonly<Record<ReportKind, string>> = {
  PolicyReport: "policyreports",
  ClusterPolicyReport: "clusterpolicyreports",
  Report: "reports",
  ClusterReport: "clusterreports",
};

/** The wgpolicyk8s.io API, the default. */
export const REPORT_GROUP = REPORT_FORMATS.wgpolicyk8s.group;
export const REPORT_VERSION = REPORT_FORMATS.wgpolicyk8s.version;
export const REPORT_API_VERSION = REPORT_FORMATS.wgpolicyk8s.apiVersion;
export const NAMESPACED_REPORT_NAME = "tollgate-audit";
export const CLUSTER_REPORT_NAME = "tollgate-audit-cluster";

export const REPORT_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/managed-by": "tollgate",
  "tollgate.dev/report": "audit",
};
export const REPORT_LABEL_SELECTOR = Object.entries(REPORT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(",");

export const REPORT_ANNOTATIONS = {
  /** Findings counted in `summary` but not listed in `results`. */
  omitted: "tollgate.dev/omitted-results",
  maxResults: "tollgate.dev/max-results",
  /** Hash of summary and results (timestamps aside): an unchanged report is not rewritten. */
  hash: "tollgate.dev/content-hash",
  policySet: "tollgate.dev/policy-set",
} as const;

/**
 * Serialized size a report may reach. etcd refuses objects over about
 * 1.5 MiB; results stop well before that whatever --max-results says.
 */
export const MAX_REPORT_BYTES = 1_000_000;

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface PolicyReportResult {
  policy: string;
  rule: string;
  result: ReportResult;
  severity: string;
  category: string;
  message: string;
  source: string;
  scored: boolean;
  timestamp: { seconds: number; nanos: number };
  resources?: ObjectReference[];
  properties: Record<string, string>;
}

export interface PolicyReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export type ReportKind = "PolicyReport" | "ClusterPolicyReport" | "Report" | "ClusterReport";

export interface PolicyReportObject {
  apiVersion: string;
  kind: ReportKind;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    resourceVersion?: string;
  };
  /** openreports.io only: the tool that wrote the report. */
  source?: string;
  summary: PolicyReportSummary;
  results: PolicyReportResult[];
}

export interface ReportRef {
  kind: ReportKind;
  namespace?: string | undefined;
  name: string;
}

/**
 * Storage for PolicyReports (or OpenReports Reports, by `format`). Implemented over CustomObjectsApi in
 * src/cluster/audit-reports.ts and by fakes in tests. `create` and `replace`
 * throw ReportConflictError when the object already exists or changed since
 * it was read; every other failure is an AuditError.
 */
export interface ReportApi {
  /** The API written to; wgpolicyk8s.io when absent. */
  readonly format?: ReportFormat | undefined;
  get(ref: ReportRef): Promise<PolicyReportObject | undefined>;
  create(report: PolicyReportObject): Promise<void>;
  replace(report: PolicyReportObject): Promise<void>;
  /** Resolves when the object is gone, including when it never existed. */
  delete(ref: ReportRef): Promise<void>;
  /** Namespaces holding a (namespaced) report of `format` with REPORT_LABELS. */
  namespacesWithReports(): Promise<string[]>;
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

function toResult(f: AuditFinding, seconds: number): PolicyReportResult {
  const properties: Record<string, string> = {
    action: f.action,
    checklistItem: f.checklist.item,
    title: f.title,
    source: f.source,
  };
  if (f.path) properties.path = f.path;
  if (f.container) properties.container = f.container;
  if (f.exception) {
    properties.exception = `${f.exception.namespace}/${f.exception.name}`;
    properties.exceptionReason = f.exception.reason;
    if (f.exception.expires) properties.exceptionExpires = f.exception.expires;
    // Flagged: the exception ends within 14 days of the audit.
    if (f.exception.expiresSoon) properties.exceptionExpiresSoon = "true";
  }
  const result: PolicyReportResult = {
    policy: f.policy,
    rule:
      f.source === "check"
        ? f.policy
        : `${f.policy}/${f.action === "patch" ? "mutate" : "validate"}`,
    result: f.result,
    severity: f.severity,
    category: f.checklist.section,
    message: f.message,
    source: "tollgate",
    scored: true,
    timestamp: { seconds, nanos: 0 },
    properties,
  };
  if (f.resource) {
    const r = f.resource;
    const ref: ObjectReference = { apiVersion: r.apiVersion, kind: r.kind, name: r.name };
    if (r.namespace) ref.namespace = r.namespace;
    if (r.uid) ref.uid = r.uid;
    result.resources = [ref];
  }
  return result;
}

function compareResults(a: PolicyReportResult, b: PolicyReportResult): number {
  return (
    (a.result === b.result ? 0 : a.result === "fail" ? -1 : b.result === "fail" ? 1 : 0) ||
    (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) ||
    a.policy.localeCompare(b.policy) ||
    (a.resources?.[0]?.name ?? "").localeCompare(b.resources?.[0]?.name ?? "") ||
    a.message.localeCompare(b.message)
  );
}

export interface BuildOptions {
  now: Date;
  maxResults: number;
  policySet?: string | undefined;
  maxBytes?: number | undefined;
  /** The API to write; wgpolicyk8s.io when absent. */
  format?: ReportFormat | undefined;
}

/**
 * The PolicyReport of one bucket (a ClusterPolicyReport for the cluster
 * bucket; Report and ClusterReport with the openreports.io format). `summary` counts everything; `results` lists failures,
 * warnings and excepted findings (`skip`, naming the PolicyException in
 * `properties`; passes are counted, not listed), at most maxResults and
 * never more than MAX_REPORT_BYTES, and the omitted count is annotated.
 */
export function buildReport(bucket: Bucket, options: BuildOptions): PolicyReportObject {
  const seconds = Math.floor(options.now.getTime() / 1000);
  const maxBytes = options.maxBytes ?? MAX_REPORT_BYTES;
  const all = bucket.kept.map((f) => toResult(f, seconds)).sort(compareResults);
  const results: PolicyReportResult[] = [];
  let bytes = 2048; // metadata, summary and annotations
  for (const result of all) {
    if (results.length >= options.maxResults) break;
    const size = Buffer.byteLength(JSON.stringify(result)) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    results.push(result);
  }
  const omitted = bucket.omitted + (all.length - results.length);
  const summary: PolicyReportSummary = {
    pass: bucket.counts.pass,
    fail: bucket.counts.fail,
    warn: bucket.counts.warn,
    error: bucket.counts.error,
    skip: bucket.counts.skip,
  };
  const hash = createHash("sha256")
    .update(
      JSON.stringify({
        summary,
        omitted,
        results: results.map(({ timestamp: _t, ...rest }) => rest),
      }),
    )
    .digest("hex")
    .slice(0, 32);
  const annotations: Record<string, string> = {
    [REPORT_ANNOTATIONS.omitted]: String(omitted),
    [REPORT_ANNOTATIONS.maxResults]: String(options.maxResults),
    [REPORT_ANNOTATIONS.hash]: hash,
  };
  if (options.policySet) annotations[REPORT_ANNOTATIONS.policySet] = options.policySet;
  const cluster = bucket.namespace === undefined;
  const metadata: PolicyReportObject["metadata"] = {
    name: cluster ? CLUSTER_REPORT_NAME : NAMESPACED_REPORT_NAME,
    labels: { ...REPORT_LABELS },
    annotations,
  };
  if (!cluster) metadata.namespace = bucket.namespace;
  const format = options.format ?? REPORT_FORMATS.wgpolicyk8s;
  const report: PolicyReportObject = {
    apiVersion: format.apiVersion,
    kind: cluster ? format.clusterKind : format.namespacedKind,
    metadata,
    summary,
    results,
  };
  // wgpolicyk8s.io/v1alpha2 has no report-level source; openreports.io does.
  if (format.api === "openreports") report.source = "tollgate";
  return report;
}

export type WriteOutcome = "created" | "updated" | "unchanged";

function refOf(report: PolicyReportObject): ReportRef {
  return { kind: report.kind, namespace: report.metadata.namespace, name: report.metadata.name };
}

function describeRef(ref: ReportRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/**
 * Creates the report, or replaces the stored one with resourceVersion
 * (optimistic concurrency), so results never pile up. Retries when another
 * writer got there first; skips the write when nothing changed.
 */
export async function upsertReport(
  api: ReportApi,
  report: PolicyReportObject,
  attempts = 5,
): Promise<WriteOutcome> {
  const ref = refOf(report);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const stored = await api.get(ref);
    try {
      if (!stored) {
        await api.create(report);
        return "created";
      }
      const hash = REPORT_ANNOTATIONS.hash;
      if (stored.metadata.annotations?.[hash] === report.metadata.annotations[hash]) {
        return "unchanged";
      }
      const { resourceVersion } = stored.metadata;
      await api.replace({ ...report, metadata: { ...report.metadata, resourceVersion } });
      return "updated";
    } catch (error) {
      if (!(error instanceof ReportConflictError)) throw error;
    }
  }
  throw new AuditError(
    "server",
    `could not write ${describeRef(ref)}: it changed under us ${attempts} times in a row`,
  );
}

/** Runs `fn` over `items` with at most `limit` calls in flight; fails on the first error. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export interface WriteSummary {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Reports not written because their namespace was deleted meanwhile. */
  skipped: number;
  /** Report objects that exist after the write. */
  reports: number;
  /** Results left out of the reports (--max-results or the size limit). */
  omittedResults: number;
}

export interface WriteOptions {
  now?: Date | undefined;
  maxResults: number;
  concurrency?: number | undefined;
}

/**
 * Writes one PolicyReport per audited namespace (clean namespaces get an
 * empty one, so every namespace shows it was audited) and, for whole-cluster
 * audits, the ClusterPolicyReport. Reports in namespaces that are no longer
 * audited (now exempt) are deleted. A namespace-filtered audit touches only
 * its namespaces and leaves the ClusterPolicyReport alone.
 */
export async function writeReports(
  api: ReportApi,
  result: AuditResult,
  options: WriteOptions,
): Promise<WriteSummary> {
  const now = options.now ?? result.finishedAt;
  const summary: WriteSummary = {
    created: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    skipped: 0,
    reports: 0,
    omittedResults: 0,
  };
  const format = api.format ?? REPORT_FORMATS.wgpolicyk8s;
  const build = (bucket: Bucket) =>
    buildReport(bucket, {
      now,
      maxResults: options.maxResults,
      policySet: result.policySet,
      format,
    });
  const write = async (report: PolicyReportObject) => {
    let outcome: WriteOutcome;
    try {
      outcome = await upsertReport(api, report);
    } catch (error) {
      if (error instanceof AuditError && error.reason === "gone") {
        summary.skipped++;
        return;
      }
      throw error;
    }
    summary[outcome]++;
    summary.reports++;
    summary.omittedResults += Number(report.metadata.annotations[REPORT_ANNOTATIONS.omitted]);
  };
  await mapLimit(result.namespaces, options.concurrency ?? 4, (namespace) =>
    write(build(result.tally.bucket(namespace))),
  );
  if (result.namespaceFilter === undefined) {
    await write(build(result.tally.bucket(CLUSTER_BUCKET)));
    const audited = new Set(result.namespaces);
    const stale = (await api.namespacesWithReports()).filter((ns) => !audited.has(ns));
    await mapLimit(stale, options.concurrency ?? 4, async (namespace) => {
      await api.delete({ kind: format.namespacedKind, namespace, name: NAMESPACED_REPORT_NAME });
      summary.deleted++;
    });
  }
  return summary;
}
