import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "privileged",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      if (c.container.securityContext?.privileged === true) {
        findings.push({
          message: "runs privileged; remove securityContext.privileged or set it to false",
          path: [...c.path, "securityContext", "privileged"],
          container: c,
        });
      }
    }
    return findings;
  },
});
