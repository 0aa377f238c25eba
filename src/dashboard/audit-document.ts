import { z } from "zod";
import { CHECKLIST_COVERAGES } from "../engine/checklist.js";
import { CHECK_SCOPES } from "../engine/cluster-check.js";
import { SEVERITIES } from "../engine/types.js";

/**
 * The one place that reads a `tollgate audit --format json` document. The
 * rest of the dashboard sees only the types below, so a change of the audit
 * JSON is absorbed here. Unknown members are ignored; members the dashboard
 * needs are checked, and a bad document fails naming the field.
 */

const severity = z.enum(SEVERITIES);
const checklist = z.object({ section: z.string(), item: z.string() });

const exceptionRef = z.object({
  namespace: z.string(),
  name: z.string(),
  expires: z.string().optional(),
  reason: z.string().optional(),
});

const finding = z.object({
  source: z.enum(["policy", "check"]),
  policy: z.string(),
  title: z.string(),
  checklist,
  severity,
  action: z.string(),
  result: z.string(),
  message: z.string(),
  resource: z
    .object({
      apiVersion: z.string().optional(),
      kind: z.string(),
      namespace: z.string().optional(),
      name: z.string(),
    })
    .optional(),
  path: z.string().optional(),
  container: z.string().optional(),
  patch: z.array(z.unknown()).optional(),
  scope: z.enum(CHECK_SCOPES),
  /** The PolicyException that covers the finding (the engine's ExceptionRef), or its name. */
  exception: z.union([z.string(), exceptionRef]).optional(),
});

const counts = { pass: z.number(), fail: z.number(), warn: z.number() };

/**
 * Exceptions, once the audit reports them. Read leniently: a name, the
 * namespace and policies it covers, and an RFC 3339 expiry when it has one.
 */
const exception = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  policies: z.array(z.string()).optional(),
  expires: z.string().optional(),
  reason: z.string().optional(),
  findings: z.number().optional(),
});

const documentSchema = z.object({
  kind: z.literal("AuditResult"),
  server: z.string(),
  policySet: z.string(),
  startedAt: z.string(),
  findings: z.array(finding),
  error: z.string().optional(),
  summary: z
    .object({
      finishedAt: z.string(),
      durationMs: z.number(),
      serverVersion: z.string(),
      version: z.object({ status: z.string(), message: z.string() }),
      exemptNamespaces: z.array(z.string()),
      checks: z.array(
        z.object({
          id: z.string(),
          title: z.string(),
          checklist,
          severity,
          status: z.enum(["pass", "fail", "unknown"]),
          findings: z.number(),
          passes: z.number(),
        }),
      ),
      notes: z.array(z.string()),
    })
    .optional(),
  namespaces: z
    .array(z.object({ namespace: z.string(), ...counts, omitted: z.number() }))
    .optional(),
  clusterReport: z.object(counts).optional(),
  score: z
    .object({
      passed: z.number(),
      failed: z.number(),
      outOfReach: z.number(),
      inReach: z.number(),
      percent: z.number(),
      sections: z.array(
        z.object({
          section: z.string(),
          pass: z.number(),
          fail: z.number(),
          outOfReach: z.number(),
        }),
      ),
      items: z.array(
        z.object({
          section: z.string(),
          item: z.string(),
          status: z.enum(["pass", "fail", "out-of-reach"]),
          findings: z.number(),
          policies: z.array(z.string()),
          checks: z.array(z.string()),
          /** Absent in documents written before items could be partly judged. */
          coverage: z.enum(CHECKLIST_COVERAGES).optional(),
          reason: z.string().optional(),
        }),
      ),
    })
    .optional(),
  exceptions: z.array(exception).optional(),
  exitCode: z.number(),
});

type Document = z.infer<typeof documentSchema>;
type Summary = NonNullable<Document["summary"]>;

export type Severity = z.infer<typeof severity>;
export type RawFinding = z.infer<typeof finding>;
export type AuditCheck = Summary["checks"][number];
export type AuditScore = NonNullable<Document["score"]>;
export type AuditException = z.infer<typeof exception>;

export interface NamespaceCounts {
  namespace: string;
  pass: number;
  fail: number;
  warn: number;
}

/** A finding as the dashboard shows it. */
export interface Finding {
  policy: string;
  title: string;
  source: "policy" | "check";
  severity: Severity;
  action: string;
  section: string;
  item: string;
  /** The whole message, which names the resource. */
  message: string;
  /** How to fix it: the message's advice after its "; ", or the patch a mutation would apply. */
  fix: string;
  path: string | undefined;
  container: string | undefined;
  kind: string | undefined;
  name: string | undefined;
  /** The namespace whose report holds it (a Namespace's own name for its checks); unset for the cluster. */
  namespace: string | undefined;
  /** The exception that covers it (`namespace/name`), when there is one. */
  exception: string | undefined;
}

/** Everything the dashboard needs from one audit. */
export interface AuditView {
  server: string;
  policySet: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  serverVersion: string;
  version: { status: string; message: string };
  exitCode: number;
  score: AuditScore;
  namespaces: NamespaceCounts[];
  clusterReport: { pass: number; fail: number; warn: number };
  checks: AuditCheck[];
  notes: string[];
  exemptNamespaces: string[];
  findings: Finding[];
  /** Undefined when the audit reports no exceptions. */
  exceptions: AuditException[] | undefined;
}

/** A document the dashboard cannot show: `where` names it, `problem` says why. */
export class AuditDocumentError extends Error {
  override name = "AuditDocumentError";
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length > 0 ? issue.path.join(".") : "(document)";
  return `${at}: ${issue.message}`;
}

/** The advice part of a message: what follows its first "; ", if anything. */
function adviceOf(message: string): string {
  const at = message.indexOf("; ");
  return at < 0 ? "" : message.slice(at + 2);
}

/** The namespace an object lives in, or its own name for a Namespace. */
function homeOf(resource: RawFinding["resource"]): string | undefined {
  if (!resource) return undefined;
  return resource.namespace ?? (resource.kind === "Namespace" ? resource.name : undefined);
}

type RawException = Exclude<RawFinding["exception"], string | undefined>;

/** `team-a/legacy`, as findings name the exception that covers them. */
function exceptionName(ref: RawFinding["exception"]): string | undefined {
  if (ref === undefined || typeof ref === "string") return ref;
  return `${ref.namespace}/${ref.name}`;
}

/**
 * The exceptions in force: the document's own list when it names any, else
 * those that cover at least one finding, with the policies they cover.
 */
function exceptionsOf(doc: Document): AuditException[] | undefined {
  if (doc.exceptions && doc.exceptions.length > 0) return doc.exceptions;
  const seen = new Map<string, { ref: RawException; policies: Set<string>; findings: number }>();
  for (const f of doc.findings) {
    const ref = f.exception;
    if (ref === undefined || typeof ref === "string") continue;
    const key = `${ref.namespace}/${ref.name}`;
    const entry = seen.get(key) ?? { ref, policies: new Set<string>(), findings: 0 };
    entry.policies.add(f.policy);
    entry.findings++;
    seen.set(key, entry);
  }
  if (seen.size === 0) return undefined;
  return [...seen.values()].map(({ ref, policies, findings }) => ({
    name: ref.name,
    namespace: ref.namespace,
    policies: [...policies].sort(),
    expires: ref.expires,
    reason: ref.reason,
    findings,
  }));
}

function toFinding(f: RawFinding): Finding {
  const patch = f.patch && f.patch.length > 0 ? `apply ${JSON.stringify(f.patch)}` : "";
  return {
    policy: f.policy,
    title: f.title,
    source: f.source,
    severity: f.severity,
    action: f.action,
    section: f.checklist.section,
    item: f.checklist.item,
    message: f.message,
    fix: adviceOf(f.message) || patch,
    path: f.path,
    container: f.container,
    kind: f.resource?.kind,
    name: f.resource?.name,
    namespace: f.scope === "namespace" ? homeOf(f.resource) : undefined,
    exception: exceptionName(f.exception),
  };
}

/**
 * Reads a parsed audit JSON document. `where` names it in errors (a file
 * name, or "the live audit"). A document that closed with `error` (the audit
 * failed midway) is refused with that error.
 */
export function readAuditDocument(value: unknown, where: string): AuditView {
  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map(describeIssue).join("; ");
    throw new AuditDocumentError(
      where,
      `not a tollgate audit JSON document (tollgate audit --format json): ${first}`,
    );
  }
  const doc = parsed.data;
  if (doc.error !== undefined) {
    throw new AuditDocumentError(where, `the audit did not finish: ${doc.error}`);
  }
  const { summary, score, namespaces, clusterReport } = doc;
  if (!summary || !score || !namespaces || !clusterReport) {
    throw new AuditDocumentError(
      where,
      "the audit document has no summary, score or namespaces; was it cut short?",
    );
  }
  return {
    server: doc.server,
    policySet: doc.policySet,
    startedAt: doc.startedAt,
    finishedAt: summary.finishedAt,
    durationMs: summary.durationMs,
    serverVersion: summary.serverVersion,
    version: summary.version,
    exitCode: doc.exitCode,
    score,
    namespaces: namespaces.map(({ namespace, pass, fail, warn }) => ({
      namespace,
      pass,
      fail,
      warn,
    })),
    clusterReport: {
      pass: clusterReport.pass,
      fail: clusterReport.fail,
      warn: clusterReport.warn,
    },
    checks: summary.checks,
    notes: summary.notes,
    exemptNamespaces: summary.exemptNamespaces,
    findings: doc.findings.map(toFinding),
    exceptions: exceptionsOf(doc),
  };
}

/** Parses JSON text and reads it; a syntax error names `where`. */
export function parseAuditDocument(text: string, where: string): AuditView {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AuditDocumentError(where, `not valid JSON: ${reason}`);
  }
  return readAuditDocument(value, where);
}
