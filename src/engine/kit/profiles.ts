// The rule the seccomp and AppArmor policies share: a profile that is set must
// be of a confining type. Each policy keeps its own wording.

import { type Path, toFieldPath } from "../paths.js";
import type { Finding } from "../policy.js";
import { containersOf, type PodTarget } from "../workloads.js";
import { CONFINING_PROFILE_TYPES, inheritedFromPod } from "./pod-security.js";
import { effectiveSetting } from "./security.js";

/** The security-context fields that hold a `{ type, localhostProfile }` profile. */
export type ProfileField = "seccompProfile" | "appArmorProfile";

export interface ProfileProblem {
  /** `no type` or `type "Unconfined"`, for the message. */
  shown: string;
  /** Where the pod sets the profile the container inherits; undefined when the container sets its own. */
  inheritedFrom: string | undefined;
}

/**
 * One finding per container whose effective profile in `field` is set but not
 * of a confining type (RuntimeDefault or Localhost), at the profile's `type`.
 * An absent profile is not reported: requiring one is a separate rule.
 */
export function unconfinedProfileFindings(
  pod: PodTarget,
  field: ProfileField,
  describe: (problem: ProfileProblem) => string,
): Finding[] {
  const findings: Finding[] = [];
  for (const c of containersOf(pod)) {
    const profile = effectiveSetting(pod, c, field);
    if (profile.value === undefined) continue;
    const type = profile.value?.type;
    if (typeof type === "string" && CONFINING_PROFILE_TYPES.includes(type)) continue;
    const path: Path = [...profile.path, "type"];
    findings.push({
      message: describe({
        shown: type === undefined ? "no type" : `type ${JSON.stringify(type)}`,
        inheritedFrom: inheritedFromPod(c, profile) ? toFieldPath(path) : undefined,
      }),
      path,
      container: c,
    });
  }
  return findings;
}
