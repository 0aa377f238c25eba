import { z } from "zod";
import { containersOf, definePolicy, type Finding, toFieldPath } from "../../src/engine/index.js";
import { effectiveSetting, inheritedFromPod, inUserNamespace } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "run-as-non-root",
  scope: "pod",
  parameters: z
    .object({
      /** Pods with `hostUsers: false` map root to an unprivileged host user; allow them to run as root. */
      allowRootInUserNamespace: z.boolean(),
    })
    .strict(),
  validate(pod, params) {
    if (params.allowRootInUserNamespace && inUserNamespace(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const nonRoot = effectiveSetting(pod, c, "runAsNonRoot");
      if (nonRoot.value === undefined) {
        findings.push({
          message:
            "may run as root because runAsNonRoot is not set; set securityContext.runAsNonRoot to true on the container or the pod, and build the image with a non-root USER",
          path: nonRoot.path,
          container: c,
        });
      } else if (nonRoot.value !== true) {
        const shown = JSON.stringify(nonRoot.value);
        findings.push({
          message: inheritedFromPod(c, nonRoot)
            ? `inherits runAsNonRoot: ${shown} from the pod (${toFieldPath(nonRoot.path)}); set it to true, or set the container's own securityContext.runAsNonRoot to true`
            : `sets runAsNonRoot: ${shown}; set securityContext.runAsNonRoot to true and run the image as a non-root user`,
          path: nonRoot.path,
          container: c,
        });
      }
      const user = effectiveSetting(pod, c, "runAsUser");
      if (user.value === 0) {
        findings.push({
          message: inheritedFromPod(c, user)
            ? `inherits runAsUser: 0 (root) from the pod (${toFieldPath(user.path)}); set a non-zero UID there or on the container`
            : "sets runAsUser: 0 (root); set securityContext.runAsUser to a non-zero UID, or remove it and let the image's non-root USER apply",
          path: user.path,
          container: c,
        });
      }
    }
    return findings;
  },
});
