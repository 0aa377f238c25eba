import type { PatchOperation, Verdict, Violation } from "../engine/index.js";
import { ADMISSION_API_VERSION } from "./admission.js";

/** `metav1.Status` as the API server reads it from a denial. */
export interface AdmissionStatus {
  status: "Failure";
  code: number;
  reason: string;
  message: string;
}

/** admission.k8s.io/v1 AdmissionResponse, with only the fields Tollgate sets. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: "JSONPatch";
  /** Base64 of the JSON Patch document. */
  patch?: string;
}

export interface AdmissionReviewReply {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

// The API server turns warnings into HTTP Warning headers: it asks for at most
// 120 characters where possible, truncates each to 256 characters once all
// warnings of one request (from every webhook) pass 4096, and drops warnings
// with characters a header cannot carry. Tollgate stays well inside that.
export const WARNING_MAX_RUNES = 256;
export const WARNINGS_MAX_COUNT = 10;
export const WARNINGS_MAX_TOTAL_RUNES = 2048;

// Audit annotation keys get the webhook's name and a slash in front, and the
// result must be a qualified name: so the key itself is a name part of at most
// 63 characters, alphanumeric at both ends, with `-`, `_` and `.` inside.
export const ANNOTATION_KEY_MAX = 63;
export const ANNOTATION_VALUE_MAX = 1024;
export const ANNOTATIONS_MAX_COUNT = 64;

export const DENIAL_MAX_LISTED = 20;
const DENIAL_LINE_MAX = 512;
const SUMMARY_RESERVE = 128;

function runeLength(text: string): number {
  // Cheap upper bound first: a string is never longer in code points than in UTF-16 units.
  return text.length <= WARNING_MAX_RUNES ? text.length : [...text].length;
}

/**
 * Cuts `text` to at most `max` code points, ending with an ellipsis when cut.
 * Looks at no more than the first 2 × `max` UTF-16 units, which hold the
 * first `max` code points (one has one or two units; a longer text has more
 * than `max`): a message quoting a 1 MiB field made of every message split
 * into a million one-character strings, and with a few dozen messages a
 * request blocked the server for seconds.
 */
export function truncateRunes(text: string, max: number): string {
  if (text.length <= max) return text;
  const runes = [...text.slice(0, 2 * max)];
  if (text.length <= 2 * max && runes.length <= max) return text;
  return `${runes.slice(0, max - 1).join("")}…`;
}

/** One line of printable text: control characters (newlines, tabs) become spaces. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/**
 * oneLine(text) cut to `max` code points, reading at most the first 4 × `max`
 * UTF-16 units of `text`. A longer text is taken as cut: exact unless control
 * characters fill most of those units, and then the line is shorter, still
 * ending with the ellipsis.
 */
export function boundedLine(text: string, max: number): string {
  const scan = 4 * max;
  if (text.length <= scan) return truncateRunes(oneLine(text), max);
  const runes = [...oneLine(text.slice(0, scan)).slice(0, 2 * max)];
  return `${runes.slice(0, max - 1).join("")}…`;
}

/**
 * Makes warnings safe to hand to the API server: single lines, each at most
 * 256 characters, no duplicates, at most ten and 2048 characters in all. What
 * does not fit is summarised in a last warning instead of silently dropped.
 */
export function boundWarnings(warnings: readonly string[]): string[] {
  const unique = [
    ...new Set(warnings.map((w) => boundedLine(w, WARNING_MAX_RUNES)).filter(Boolean)),
  ];
  const sizes = unique.map(runeLength);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (unique.length <= WARNINGS_MAX_COUNT && total <= WARNINGS_MAX_TOTAL_RUNES) return unique;
  // Keep what fits with room for one summary line, in the engine's order.
  const kept: string[] = [];
  let used = SUMMARY_RESERVE;
  for (const [index, warning] of unique.entries()) {
    const size = sizes[index] ?? 0;
    if (kept.length >= WARNINGS_MAX_COUNT - 1 || used + size > WARNINGS_MAX_TOTAL_RUNES) break;
    kept.push(warning);
    used += size;
  }
  const left = unique.length - kept.length;
  kept.push(
    `tollgate: ${left} more warning${left === 1 ? "" : "s"} not shown; the audit annotations and the webhook's log list every violation`,
  );
  return kept;
}

/** A valid qualified-name part made from `key`, or undefined when nothing is left of it. */
export function annotationKey(key: string): string | undefined {
  const cleaned = key
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .slice(0, ANNOTATION_KEY_MAX)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return cleaned === "" ? undefined : cleaned;
}

/** Audit annotations the API server accepts: valid keys, bounded values and count. */
export function boundAuditAnnotations(
  annotations: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  let count = 0;
  for (const [rawKey, value] of Object.entries(annotations)) {
    const key = annotationKey(rawKey);
    if (key === undefined || (out && key in out)) continue;
    if (count++ >= ANNOTATIONS_MAX_COUNT) break;
    out ??= {};
    out[key] = truncateRunes(value, ANNOTATION_VALUE_MAX);
  }
  return out;
}

function denialLine(violation: Violation): string {
  const where = violation.path ? ` (field ${violation.path})` : "";
  return `- ${boundedLine(`${violation.policy}: ${violation.message}${where}`, DENIAL_LINE_MAX)}`;
}

/**
 * The message `kubectl` shows after `admission webhook "…" denied the request:`.
 * One line per violation that denies, each naming the resource, container and
 * field and saying how to fix it.
 */
export function denialMessage(verdict: Verdict): string {
  const denying = verdict.violations.filter((v) => v.action === "deny");
  const listed = denying.length > 0 ? denying : verdict.violations;
  const count = listed.length;
  const lines = [
    `${count} AKS checklist violation${count === 1 ? "" : "s"} must be fixed:`,
    ...listed.slice(0, DENIAL_MAX_LISTED).map(denialLine),
  ];
  if (count > DENIAL_MAX_LISTED) lines.push(`- … and ${count - DENIAL_MAX_LISTED} more`);
  return lines.join("\n");
}

/** Base64 of the RFC 6902 document; the only place a patch is serialised. */
export function encodePatch(patch: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(patch)).toString("base64");
}

function review(response: AdmissionResponse): AdmissionReviewReply {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}

/**
 * Admits without checking: nothing applied, the namespace is exempt or off,
 * or a break-glass subject sent it (then `auditAnnotations` records who).
 */
export function allowReview(
  uid: string,
  auditAnnotations?: Readonly<Record<string, string>>,
): AdmissionReviewReply {
  const annotations = auditAnnotations ? boundAuditAnnotations(auditAnnotations) : undefined;
  return review(
    annotations ? { uid, allowed: true, auditAnnotations: annotations } : { uid, allowed: true },
  );
}

function forbidden(message: string): AdmissionStatus {
  return { status: "Failure", code: 403, reason: "Forbidden", message };
}

/** Refuses a request that no policy judged (the mode-label guard). */
export function forbiddenReview(uid: string, message: string): AdmissionReviewReply {
  return review({ uid, allowed: false, status: forbidden(oneLine(message)) });
}

/**
 * The answer for a request Tollgate could not evaluate (`problem` says why):
 * denied where enforcement was asked for, else admitted with the problem as
 * a warning, as a fail-open webhook would be.
 */
export function unevaluatedReview(
  uid: string,
  problem: string,
  deny: boolean,
): AdmissionReviewReply {
  if (!deny)
    return review({ uid, allowed: true, warnings: boundWarnings([`tollgate: ${problem}`]) });
  return review({
    uid,
    allowed: false,
    status: { status: "Failure", code: 400, reason: "BadRequest", message: problem },
  });
}

/**
 * Turns a verdict into the review the API server expects. A patch is only
 * included when `withPatch` (the mutating endpoint) and there are operations.
 */
export function reviewOfVerdict(
  uid: string,
  verdict: Verdict,
  withPatch: boolean,
): AdmissionReviewReply {
  const response: AdmissionResponse = { uid, allowed: verdict.allowed };
  if (!verdict.allowed) {
    response.status = forbidden(denialMessage(verdict));
  }
  if (verdict.warnings.length > 0) response.warnings = boundWarnings(verdict.warnings);
  const annotations = boundAuditAnnotations(verdict.auditAnnotations);
  if (annotations) response.auditAnnotations = annotations;
  if (withPatch && verdict.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = encodePatch(verdict.patch);
  }
  return review(response);
}
