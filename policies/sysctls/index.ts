import { z } from "zod";
import { definePolicy, type Finding, scalarText } from "../../src/engine/index.js";
import { SAFE_SYSCTLS } from "../../src/engine/kit/index.js";

const safe = new Set(SAFE_SYSCTLS);

export default definePolicy({
  id: "sysctls",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const sysctls = pod.spec.securityContext?.sysctls;
    if (!Array.isArray(sysctls)) return [];
    const findings: Finding[] = [];
    sysctls.forEach((sysctl, index) => {
      const name = scalarText(sysctl?.name ?? "");
      if (safe.has(name)) return;
      findings.push({
        message: `sets sysctl ${JSON.stringify(name)}, which is not in the safe set isolated per pod and can change the whole node; remove it from spec.securityContext.sysctls or tune it on the node pool instead`,
        path: [...pod.specPath, "securityContext", "sysctls", index, "name"],
      });
    });
    return findings;
  },
});
