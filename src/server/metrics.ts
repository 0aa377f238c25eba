import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from "prom-client";
import { certificateExpiry } from "../certificates/expiry.js";
import type { TlsSource } from "../certificates/source.js";
import type { ExceptedViolation, Violation } from "../engine/index.js";
import type { PolicyException } from "../exceptions/index.js";

/** From 50µs to 1s: most decisions take well under a millisecond. */
export const DURATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

export interface TollgateMetrics {
  requests: Counter<"operation" | "kind" | "mode" | "decision" | "dry_run">;
  violations: ViolationCounts;
  mutations: Counter<"policy">;
  duration: Histogram<"phase">;
  reloads: Counter<"source" | "result">;
  connectionsShed: Counter<"reason">;
  exceptionsApplied: Counter<"policy" | "exception">;
}

/** tollgate_policy_violations_total, counted per request in plain maps. */
export interface ViolationCounts {
  add(violations: readonly Violation[], mode: string): void;
}

/**
 * A denied request carries up to dozens of violations, and each prom-client
 * inc() hashes its label set (about 0.4 µs each, docs/benchmarks.md); the
 * counts are kept in maps (mode, policy, action) instead and handed to the
 * counter when it is scraped.
 */
function entryOf<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let entry = map.get(key);
  if (!entry) {
    entry = new Map();
    map.set(key, entry);
  }
  return entry;
}

function violationCounts(registers: Registry[]): ViolationCounts {
  const counts = new Map<string, Map<string, Map<string, number>>>();
  new Counter({
    name: "tollgate_policy_violations_total",
    help: "Policy violations found, by policy, the action it asked for and the namespace mode.",
    labelNames: ["policy", "action", "mode"],
    registers,
    collect() {
      this.reset();
      for (const [mode, byPolicy] of counts) {
        for (const [policy, byAction] of byPolicy) {
          for (const [action, count] of byAction) this.inc({ policy, action, mode }, count);
        }
      }
    },
  });
  return {
    add(violations, mode) {
      if (violations.length === 0) return;
      const byPolicy = entryOf(counts, mode);
      for (const { policy, action } of violations) {
        const byAction = entryOf(byPolicy, policy);
        byAction.set(action, (byAction.get(action) ?? 0) + 1);
      }
    },
  };
}

/** The `kind` label for a request: a kind some policy is about, else `other`. */
export function kindLabel(kind: string, known: ReadonlyMap<string, unknown>): string {
  return known.has(kind) ? kind : "other";
}

/** Registers Tollgate's metrics, and the process defaults, on `registry`. */
export function createMetrics(
  registry: Registry,
  options: { processMetrics?: boolean } = {},
): TollgateMetrics {
  const registers = [registry];
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    requests: new Counter({
      name: "tollgate_admission_requests_total",
      help: "Admission requests answered, by operation, kind (one a policy is about, else other), mode, decision (allowed or denied) and dry_run.",
      labelNames: ["operation", "kind", "mode", "decision", "dry_run"],
      registers,
    }),
    violations: violationCounts(registers),
    mutations: new Counter({
      name: "tollgate_policy_mutations_total",
      help: "Admission requests a mutation policy patched, by policy.",
      labelNames: ["policy"],
      registers,
    }),
    duration: new Histogram({
      name: "tollgate_admission_duration_seconds",
      help: "Time from a parsed AdmissionReview to its answer, by endpoint phase.",
      labelNames: ["phase"],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    reloads: new Counter({
      name: "tollgate_reloads_total",
      help: "Reloads of the policy set file, the serving certificate or one PolicyException object (source policyexception), by source and result.",
      labelNames: ["source", "result"],
      registers,
    }),
    connectionsShed: new Counter({
      name: "tollgate_connections_shed_total",
      help: "Connections closed at the connection cap: evicted-unused (no request yet), evicted-receiving (still receiving a request body), evicted-idle (between requests) or refused (every connection busy).",
      labelNames: ["reason"],
      registers,
    }),
    exceptionsApplied: new Counter({
      name: "tollgate_policy_exceptions_applied_total",
      help: "Admission requests on which a PolicyException let a policy's findings through, by policy and exception (namespace/name).",
      labelNames: ["policy", "exception"],
      registers,
    }),
  };
}

/** Counts each (policy, exception) pair once per request. */
export function countExceptions(
  metrics: TollgateMetrics,
  excepted: readonly ExceptedViolation[],
): void {
  const seen = new Set<string>();
  for (const v of excepted) {
    const exception = `${v.exception.namespace}/${v.exception.name}`;
    const key = `${v.policy} ${exception}`;
    if (seen.has(key)) continue;
    seen.add(key);
    metrics.exceptionsApplied.inc({ policy: v.policy, exception });
  }
}

/** What the exception gauges read at scrape time. */
export interface HeldExceptions {
  all(): readonly PolicyException[];
  counts(): { valid: number; invalid: number };
}

/**
 * tollgate_policy_exceptions{state="valid"|"invalid"} and
 * tollgate_policy_exception_expiry_timestamp_seconds{exception}, read from
 * what the watch holds at scrape time, so an alert can warn before an
 * exception runs out.
 */
export function registerExceptionGauges(registry: Registry, held: HeldExceptions): void {
  new Gauge({
    name: "tollgate_policy_exceptions",
    help: "PolicyException objects the webhook holds, by state: valid (applied) or invalid (reported and ignored).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const { valid, invalid } = held.counts();
      this.set({ state: "valid" }, valid);
      this.set({ state: "invalid" }, invalid);
    },
  });
  new Gauge({
    name: "tollgate_policy_exception_expiry_timestamp_seconds",
    help: "Unix time each PolicyException that has an expiry stops applying, by exception (namespace/name).",
    labelNames: ["exception"],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of held.all()) {
        if (e.expiresAt !== undefined) {
          this.set({ exception: `${e.namespace}/${e.name}` }, e.expiresAt / 1000);
        }
      }
    },
  });
}

/**
 * tollgate_certificate_expiry_timestamp_seconds{certificate="serving"|"ca"},
 * read from the certificate being served at scrape time, so a rotation shows
 * at once. The CA series appears when the source keeps the CA bundle (the
 * self-managed certificates) or the served chain includes the issuer.
 */
export function registerCertificateExpiry(registry: Registry, source: TlsSource): void {
  new Gauge({
    name: "tollgate_certificate_expiry_timestamp_seconds",
    help: "Unix time the serving certificate and the CA that issued it expire, by certificate (serving, ca).",
    labelNames: ["certificate"],
    registers: [registry],
    collect() {
      this.reset();
      const expiry = certificateExpiry(source.current().cert, source.caBundle?.());
      for (const [certificate, seconds] of Object.entries(expiry))
        this.set({ certificate }, seconds);
    },
  });
}

/** Counts every violation of one decision under the namespace mode it ran in. */
export function countViolations(
  metrics: TollgateMetrics,
  violations: readonly Violation[],
  mode: string,
): void {
  metrics.violations.add(violations, mode);
}

/** GET /metrics in the Prometheus text format. */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.tollgate;
  app.get("/metrics", async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
