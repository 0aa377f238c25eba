import { z } from "zod";
import { definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "host-path",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    const volumes = Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [];
    volumes.forEach((volume, index) => {
      const hostPath = volume?.hostPath;
      if (hostPath === undefined || hostPath === null) return;
      const where = typeof hostPath.path === "string" ? ` (${hostPath.path})` : "";
      findings.push({
        message: `mounts the node's filesystem through hostPath volume ${JSON.stringify(volume.name ?? `#${index}`)}${where}; use a persistentVolumeClaim, an emptyDir or a CSI volume instead`,
        path: [...pod.specPath, "volumes", index, "hostPath"],
      });
    });
    return findings;
  },
});
