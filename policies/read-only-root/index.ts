import { z } from "zod";
import { containersOf, definePolicy, type Finding, isWindowsPod } from "../../src/engine/index.js";

export default definePolicy({
  id: "read-only-root",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Windows containers cannot have a read-only root filesystem.
    if (isWindowsPod(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const value = c.container.securityContext?.readOnlyRootFilesystem;
      if (value === true) continue;
      findings.push({
        message: `${value === undefined ? "leaves" : "sets"} its root filesystem writable; set securityContext.readOnlyRootFilesystem to true and mount an emptyDir volume where the process must write (such as /tmp)`,
        path: [...c.path, "securityContext", "readOnlyRootFilesystem"],
        container: c,
      });
    }
    return findings;
  },
});
