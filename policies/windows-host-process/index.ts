import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";

const FIX = "remove windowsOptions.hostProcess or set it to false";

export default definePolicy({
  id: "windows-host-process",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    // Each level is checked on its own: a HostProcess pod must say so at both.
    if (pod.spec.securityContext?.windowsOptions?.hostProcess === true) {
      findings.push({
        message: `runs as a Windows HostProcess pod, with full access to the node; ${FIX} in spec.securityContext`,
        path: [...pod.specPath, "securityContext", "windowsOptions", "hostProcess"],
      });
    }
    for (const c of containersOf(pod)) {
      if (c.container.securityContext?.windowsOptions?.hostProcess !== true) continue;
      findings.push({
        message: `runs as a Windows HostProcess container, directly on the node; ${FIX}`,
        path: [...c.path, "securityContext", "windowsOptions", "hostProcess"],
        container: c,
      });
    }
    return findings;
  },
});
