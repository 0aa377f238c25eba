import { z } from "zod";
import {
  CONFINING_PROFILE_TYPES,
  containersOf,
  definePolicy,
  effectiveSetting,
  type Finding,
  inheritedFromPod,
  toFieldPath,
} from "../../src/engine/index.js";

export default definePolicy({
  id: "seccomp",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const profile = effectiveSetting(pod, c, "seccompProfile");
      // An absent profile is seccomp-required's concern.
      if (profile.value === undefined) continue;
      const type = profile.value?.type;
      if (typeof type === "string" && CONFINING_PROFILE_TYPES.includes(type)) continue;
      const path = [...profile.path, "type"];
      const shown = type === undefined ? "no type" : `type ${JSON.stringify(type)}`;
      findings.push({
        message: inheritedFromPod(c, profile)
          ? `inherits a seccomp profile with ${shown} from the pod (${toFieldPath(path)}), which does not filter system calls; set it to RuntimeDefault, or give the container its own RuntimeDefault or Localhost profile`
          : `sets a seccomp profile with ${shown}, which does not filter system calls; set securityContext.seccompProfile.type to RuntimeDefault, or Localhost with a profile installed on the nodes`,
        path,
        container: c,
      });
    }
    return findings;
  },
});
