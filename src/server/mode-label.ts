import type { KubeObject } from "../engine/index.js";
import type { Settings } from "../policyset/index.js";
import type { AdmissionRequest } from "./admission.js";
import { type AdmissionReviewReply, allowReview, forbiddenReview } from "./response.js";

/** The label's value on an object, or undefined when it is not set. */
function labelOf(object: KubeObject | undefined, label: string): string | undefined {
  const labels = object?.metadata?.labels;
  if (labels === null || typeof labels !== "object") return undefined;
  const value = (labels as Record<string, unknown>)[label];
  return typeof value === "string" ? value : undefined;
}

function shown(value: string | undefined): string {
  return value === undefined ? "unset" : `"${value}"`;
}

/**
 * `from unset to "off"` when the request adds, changes or removes the mode
 * label of a Namespace, else undefined. Only the Namespace itself counts:
 * its status and finalize subresources cannot change labels.
 */
export function modeLabelChange(request: AdmissionRequest, label: string): string | undefined {
  if (request.kind.group !== "" || request.kind.kind !== "Namespace") return undefined;
  if (request.subResource) return undefined;
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return undefined;
  const before = request.operation === "UPDATE" ? labelOf(request.oldObject, label) : undefined;
  const after = labelOf(request.object, label);
  return before === after ? undefined : `from ${shown(before)} to ${shown(after)}`;
}

/**
 * The mode-label guard (POST /guard/mode-label). The label decides whether a
 * namespace is enforced, so with `protectModeLabel` only the PolicySet's
 * `modeLabelEditors` may add, change or remove it; every change it lets
 * through is recorded in the audit annotation with who made it.
 */
export function guardModeLabel(
  request: AdmissionRequest,
  settings: Settings,
): AdmissionReviewReply {
  const change = settings.protectModeLabel
    ? modeLabelChange(request, settings.modeLabel)
    : undefined;
  if (change === undefined) return allowReview(request.uid);
  const editor = settings.modeLabelEditor(request.userInfo);
  if (editor !== undefined) {
    const note = `${settings.modeLabel} ${change} by ${editor}`;
    return allowReview(request.uid, { "mode-label": note });
  }
  const who = request.userInfo?.username ?? "an unknown user";
  const name = request.name ?? request.object?.metadata?.name ?? "";
  const message = `changing the label ${settings.modeLabel} of Namespace "${name}" (${change}) is reserved to the PolicySet's modeLabelEditors, and ${who} is not one of them: ask a platform administrator to change it, or to list you in modeLabelEditors`;
  return forbiddenReview(request.uid, message);
}
