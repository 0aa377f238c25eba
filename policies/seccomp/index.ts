import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";
import { unconfinedProfileFindings } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "seccomp",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // An absent profile is seccomp-required's concern.
    return unconfinedProfileFindings(pod, "seccompProfile", ({ shown, inheritedFrom }) =>
      inheritedFrom
        ? `inherits a seccomp profile with ${shown} from the pod (${inheritedFrom}), which does not filter system calls; set it to RuntimeDefault, or give the container its own RuntimeDefault or Localhost profile`
        : `sets a seccomp profile with ${shown}, which does not filter system calls; set securityContext.seccompProfile.type to RuntimeDefault, or Localhost with a profile installed on the nodes`,
    );
  },
});
