// metav1.LabelSelector, read as the API server reads it. Pure: the audit's
// PodDisruptionBudget and NetworkPolicy checks and the ValidatingAdmissionPolicy
// matcher (namespaceSelector, objectSelector, paramRef.selector) share it.
import { asRecord } from "./values.js";

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Whether a selector selects these labels. An empty selector (`{}`) selects
 * everything; a missing one (null or undefined) selects nothing, as the API
 * server reads PodDisruptionBudget selectors. An operator it does not know
 * selects nothing rather than everything.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const sel = asRecord(selector);
  if (!sel) return false;
  for (const [key, value] of Object.entries(asRecord(sel.matchLabels) ?? {})) {
    if (typeof value === "string" && labels[key] !== value) return false;
  }
  for (const raw of list(sel.matchExpressions)) {
    const expr = asRecord(raw);
    if (!expr || typeof expr.key !== "string") return false;
    const has = Object.hasOwn(labels, expr.key);
    const value = labels[expr.key];
    const values = list(expr.values).filter((v): v is string => typeof v === "string");
    switch (expr.operator) {
      case "In":
        if (!has || !values.includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector with neither matchLabels nor matchExpressions entries: every pod. */
export function selectsEveryPod(selector: unknown): boolean {
  const sel = asRecord(selector);
  if (!sel) return false;
  return (
    Object.keys(asRecord(sel.matchLabels) ?? {}).length === 0 &&
    list(sel.matchExpressions).length === 0
  );
}
