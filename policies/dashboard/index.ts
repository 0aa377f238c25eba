import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";
import { isDashboardRepository } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "dashboard",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const ref = c.imageRef;
      if (!ref || !isDashboardRepository(ref.repository)) continue;
      findings.push({
        message: `runs the Kubernetes dashboard image "${c.image}"; remove the dashboard and use the Azure portal or kubectl to inspect the cluster`,
        path: [...c.path, "image"],
        container: c,
      });
    }
    return findings;
  },
});
