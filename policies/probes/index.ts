import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "probes",
  scope: "pod",
  parameters: z.object({ liveness: z.boolean(), readiness: z.boolean() }).strict(),
  validate(pod, { liveness, readiness }) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      if (c.group !== "containers") continue;
      if (liveness && !c.container.livenessProbe) {
        findings.push({
          message:
            "has no livenessProbe; add one (httpGet, tcpSocket, grpc or exec) that fails only when a restart would help",
          path: [...c.path, "livenessProbe"],
          container: c,
          part: "liveness",
        });
      }
      if (readiness && !c.container.readinessProbe) {
        findings.push({
          message:
            "has no readinessProbe; add one that succeeds only when the container can serve requests",
          path: [...c.path, "readinessProbe"],
          container: c,
          part: "readiness",
        });
      }
    }
    return findings;
  },
});
