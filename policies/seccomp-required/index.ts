import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";
import { effectiveSetting, isWindowsPod } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "seccomp-required",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Seccomp does not exist on Windows, and the API server rejects the field there.
    if (isWindowsPod(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const profile = effectiveSetting(pod, c, "seccompProfile");
      // A profile of the wrong type is the seccomp policy's concern.
      if (profile.value !== undefined) continue;
      findings.push({
        message:
          "runs without a seccomp profile, which Kubernetes treats as Unconfined unless the node enables a seccomp default; set securityContext.seccompProfile.type to RuntimeDefault on the pod or on the container",
        path: profile.path,
        container: c,
      });
    }
    return findings;
  },
});
