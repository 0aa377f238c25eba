import { evaluate, type NamespaceMode, requestSkip, type Verdict } from "../engine/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { type AdmissionRequest, admissionInputOf } from "./admission.js";
import type { ModeResolver } from "./mode.js";
import { type AdmissionReviewReply, allowReview, reviewOfVerdict } from "./response.js";

/** The endpoint's half of admission. */
export type WebhookPhase = "validate" | "mutate";

/**
 * How a request was treated: a namespace mode when it was looked at, or
 * `exempt` (a namespace Tollgate never touches) and `none` (nothing to
 * evaluate: DELETE, CONNECT, no object, or a kind no policy is about).
 */
export type TreatedAs = NamespaceMode | "exempt" | "none";

export interface Decision {
  review: AdmissionReviewReply;
  mode: TreatedAs;
  /** Present when the engine ran. */
  verdict: Verdict | undefined;
}

function admitted(request: AdmissionRequest, mode: TreatedAs): Decision {
  return { review: allowReview(request.uid), mode, verdict: undefined };
}

/**
 * Decides one admission request for one endpoint. Cheap cases are answered
 * before the namespace's mode is even looked up; `requestedMode` (the
 * endpoint's `?mode=`) wins over the namespace label.
 */
export async function decide(
  request: AdmissionRequest,
  phase: WebhookPhase,
  requestedMode: NamespaceMode | undefined,
  policies: ResolvedPolicySet,
  resolveMode: ModeResolver,
): Promise<Decision> {
  const { set, settings } = policies;
  // Patches are about the resource itself; a status or scale update is left alone.
  if (phase === "mutate" && request.subResource) return admitted(request, "none");
  const input = admissionInputOf(request);
  const skipped = requestSkip(input, set);
  if (skipped) return admitted(request, skipped === "exempt-namespace" ? "exempt" : "none");

  const mode = requestedMode ?? (await resolveMode(input.namespace, settings));
  if (mode === "off") return admitted(request, "off");
  const verdict = evaluate(input, set, { mode, phase });
  return { review: reviewOfVerdict(request.uid, verdict, phase === "mutate"), mode, verdict };
}
