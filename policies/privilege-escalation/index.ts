import { z } from "zod";
import { containersOf, definePolicy, type Finding, isWindowsPod } from "../../src/engine/index.js";

export default definePolicy({
  id: "privilege-escalation",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Windows has no set-user-ID escalation and rejects the field.
    if (isWindowsPod(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const value = c.container.securityContext?.allowPrivilegeEscalation;
      if (value === false) continue;
      findings.push({
        message:
          value === undefined
            ? "leaves allowPrivilegeEscalation unset, so set-user-ID programs can gain root; set securityContext.allowPrivilegeEscalation to false"
            : `sets allowPrivilegeEscalation: ${JSON.stringify(value)}, so set-user-ID programs can gain root; set it to false`,
        path: [...c.path, "securityContext", "allowPrivilegeEscalation"],
        container: c,
      });
    }
    return findings;
  },
});
