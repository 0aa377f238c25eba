import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";
import { inUserNamespace } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "proc-mount",
  scope: "pod",
  parameters: z
    .object({
      /** Accept an unmasked /proc in pods with `hostUsers: false`, as the baseline level does. */
      allowUnmaskedInUserNamespace: z.boolean(),
    })
    .strict(),
  validate(pod, params) {
    if (params.allowUnmaskedInUserNamespace && inUserNamespace(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const procMount = c.container.securityContext?.procMount;
      if (procMount === undefined || procMount === "Default") continue;
      findings.push({
        message: `sets procMount ${JSON.stringify(procMount)}, which exposes the kernel settings the runtime normally masks in /proc; remove securityContext.procMount or set it to Default`,
        path: [...c.path, "securityContext", "procMount"],
        container: c,
      });
    }
    return findings;
  },
});
