import { evaluate, type PolicyType, requestSkip, type Verdict } from "../engine/index.js";
import { type ExceptionIndex, exceptionLookup } from "../exceptions/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { type AdmissionRequest, admissionInputOf, depthProblem } from "./admission.js";
import type { ModeResolver, NamespaceObjectLookup } from "./mode.js";
import type { NamespaceMode } from "./namespace-mode.js";
import {
  type AdmissionReviewReply,
  allowReview,
  reviewOfVerdict,
  unevaluatedReview,
} from "./response.js";

/** The endpoint's half of admission: the type of the policies it runs. */
export type WebhookPhase = PolicyType;

/**
 * How a request was treated: a namespace mode when it was looked at, or
 * `exempt` (a namespace Tollgate never touches), `exempt-subject` (a
 * break-glass user, group or ServiceAccount of the PolicySet sent it),
 * `guard` (the mode-label guard's endpoint) and `none` (nothing to evaluate:
 * DELETE, CONNECT, no object, or a kind no policy is about).
 */
export type TreatedAs = NamespaceMode | "exempt" | "exempt-subject" | "guard" | "none";

export interface Decision {
  review: AdmissionReviewReply;
  mode: TreatedAs;
  /** Present when the engine ran. */
  verdict: Verdict | undefined;
}

/** What a decision reads besides the request, fixed for its duration. */
export interface DecisionContext {
  policies: ResolvedPolicySet;
  resolveMode: ModeResolver;
  /** `namespaceObject` for CEL policies; asked only when the set has some. */
  namespaceObject: NamespaceObjectLookup;
  /** The PolicyExceptions held, by namespace. */
  exceptions: ExceptionIndex;
  /** Milliseconds since the epoch: exceptions stop applying when they expire. */
  now: number;
}

/** The audit annotation a break-glass request carries: who it was. */
export const EXEMPT_SUBJECT_ANNOTATION = "exempt-subject";

/** Allows a request the engine never sees; `mode` says why (no verdict to report). */
function allowUnchecked(request: AdmissionRequest, mode: TreatedAs): Decision {
  return { review: allowReview(request.uid), mode, verdict: undefined };
}

/**
 * Decides one admission request for one endpoint. Cheap cases are answered
 * before the namespace's mode is even looked up; `requestedMode` (the
 * endpoint's `?mode=`) wins over the namespace label. A request from an
 * exempt subject is admitted unchecked wherever it would have been checked,
 * and says so in its audit annotation.
 */
export async function decide(
  request: AdmissionRequest,
  phase: WebhookPhase,
  requestedMode: NamespaceMode | undefined,
  context: DecisionContext,
): Promise<Decision> {
  const { set, settings } = context.policies;
  // Patches are about the resource itself; a status or scale update is left alone.
  if (phase === "mutate" && request.subResource) return allowUnchecked(request, "none");
  const input = admissionInputOf(request);
  const skipped = requestSkip(input, set);
  if (skipped) return allowUnchecked(request, skipped === "exempt-namespace" ? "exempt" : "none");

  const mode = requestedMode ?? (await context.resolveMode(input.namespace, settings));
  if (mode === "off") return allowUnchecked(request, "off");
  const subject = settings.exemptSubject(input.userInfo);
  if (subject !== undefined) {
    const review = allowReview(request.uid, { [EXEMPT_SUBJECT_ANNOTATION]: subject });
    return { review, mode: "exempt-subject", verdict: undefined };
  }
  // Objects nested too deep are not walked: only an enforcing /validate
  // denies them, every other endpoint admits them with a warning, as a
  // fail-open webhook would.
  const problem = depthProblem(request);
  if (problem) {
    const deny = phase === "validate" && mode === "enforce";
    return { review: unevaluatedReview(request.uid, problem, deny), mode, verdict: undefined };
  }
  const exceptions = exceptionLookup(context.exceptions, {
    now: context.now,
    mayHold: settings.mayHoldExceptions,
  });
  if (context.policies.policies.some((p) => p.cel !== undefined)) {
    input.namespaceObject = await context.namespaceObject(input.namespace);
  }
  const verdict = evaluate(input, set, { mode, phase, exceptions });
  return { review: reviewOfVerdict(request.uid, verdict, phase === "mutate"), mode, verdict };
}
