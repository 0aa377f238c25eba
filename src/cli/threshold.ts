import { SEVERITIES, type Severity } from "../engine/index.js";
import type { ResourceResult } from "./report.js";

/** What `--fail-on` makes exit code 1: denials only, or warnings as well. */
export const FAIL_ON = ["deny", "warn"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** `critical` first: an index lower than the threshold's is at or above it. */
function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * The result as `--min-severity` shows it: violations below the threshold
 * are left out of every format, of the summary and of the exit code, and
 * so is their warning. The object counts as denied only through what is left.
 */
export function atOrAbove(result: ResourceResult, minimum: Severity): ResourceResult {
  const { verdict } = result;
  const limit = rank(minimum);
  const dropped = verdict.violations.filter((v) => rank(v.severity) > limit);
  if (dropped.length === 0) return result;
  const hidden = new Set(dropped.map((v) => `${v.policy}: ${v.message}`));
  const violations = verdict.violations.filter((v) => rank(v.severity) <= limit);
  return {
    ...result,
    verdict: {
      ...verdict,
      violations,
      warnings: verdict.warnings.filter((w) => !hidden.has(w)),
      allowed: verdict.allowed || !violations.some((v) => v.action === "deny"),
    },
  };
}
