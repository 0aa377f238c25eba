import type { ExceptionSource } from "../engine/index.js";
import {
  exceptionId,
  exceptionLookup,
  formatExceptionProblem,
  indexExceptions,
  type PolicyException,
  parseException,
} from "../exceptions/index.js";
import { AuditError } from "./errors.js";
import type { ClusterSource } from "./types.js";

/** The kind the audit lists to read the cluster's PolicyExceptions (src/audit/kinds.ts). */
export const EXCEPTION_KIND = "PolicyException";

/** An exception that ends within this long of the audit is flagged. */
export const EXPIRING_SOON_MS = 14 * 24 * 60 * 60 * 1000;

/** The PolicyExceptions an audit honours, and what it could not use. */
export interface HeldExceptions {
  exceptions: readonly PolicyException[];
  /** One line each: a bad exception, or why none could be read. */
  notes: readonly string[];
}

/** One exception as the audit's result reports it. */
export interface ExceptionStatus {
  namespace: string;
  name: string;
  /** The policies it excepts. */
  policies: string[];
  reason: string;
  /** RFC 3339, as the exception says. */
  expires: string | undefined;
  /** Past its expiry when the audit ran: it applied to nothing. */
  expired: boolean;
  /** In force, and ends within 14 days of the audit. */
  expiresSoon: boolean;
  /** Findings it covered in this audit. */
  findings: number;
}

/** Whether an exception in force at `now` ends within EXPIRING_SOON_MS. */
export function expiresSoon(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && now < expiresAt && expiresAt - now <= EXPIRING_SOON_MS;
}

/**
 * Reads the cluster's PolicyExceptions, as the webhook's watch would see
 * them: a bad one is a note and is ignored, the others apply. When they
 * cannot be read at all (the CRD is not installed, or the audit may not list
 * them) the audit goes on without them and says so: excepted findings then
 * show as failing, never the other way round.
 */
export async function readClusterExceptions(
  source: ClusterSource,
  namespaces: readonly string[] | undefined,
  pageSize: number,
): Promise<HeldExceptions> {
  if (!source.listableKinds().includes(EXCEPTION_KIND)) return { exceptions: [], notes: [] };
  const exceptions: PolicyException[] = [];
  const notes: string[] = [];
  try {
    for (const namespace of namespaces ?? [undefined]) {
      for await (const page of source.list(EXCEPTION_KIND, namespace, pageSize)) {
        for (const item of page.items) {
          const parsed = parseException(item);
          if (parsed.ok) exceptions.push(parsed.exception);
          else notes.push(`ignored ${formatExceptionProblem(parsed.problem)}`);
        }
      }
    }
  } catch (error) {
    if (!(error instanceof AuditError) || error.reason === "aborted") throw error;
    return {
      exceptions: [],
      notes: [`PolicyExceptions not read, none applied: ${error.message}`],
    };
  }
  return { exceptions, notes };
}

/** The engine's view of the exceptions, judged at the audit's start, or undefined for none. */
export function auditExceptionSource(
  exceptions: readonly PolicyException[],
  mayHold: (namespace: string) => boolean,
  now: number,
): ExceptionSource | undefined {
  if (exceptions.length === 0) return undefined;
  return exceptionLookup(indexExceptions(exceptions), { now, mayHold });
}

/**
 * Every exception the audit held in a namespace allowed to hold one (and,
 * with --namespace, audited), in (namespace, name) order, with how many
 * findings each covered and whether it has run out or soon will.
 */
export function exceptionStatuses(
  exceptions: readonly PolicyException[],
  options: {
    mayHold: (namespace: string) => boolean;
    namespaces: readonly string[] | undefined;
    now: number;
    excepted: ReadonlyMap<string, number>;
  },
): ExceptionStatus[] {
  const wanted = options.namespaces ? new Set(options.namespaces) : undefined;
  return exceptions
    .filter((e) => options.mayHold(e.namespace) && (!wanted || wanted.has(e.namespace)))
    .map((e) => {
      return {
        namespace: e.namespace,
        name: e.name,
        policies: [...e.spec.policies],
        reason: e.spec.reason,
        expires: e.spec.expires,
        expired: e.expiresAt !== undefined && options.now >= e.expiresAt,
        expiresSoon: expiresSoon(e.expiresAt, options.now),
        findings: options.excepted.get(exceptionId(e)) ?? 0,
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
