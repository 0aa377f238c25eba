import { z } from "zod";
import { definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "volume-types",
  scope: "pod",
  parameters: z
    .object({
      /** Volume sources a pod may use, by their field name in the volume. */
      allowedTypes: z.array(z.string().min(1)).min(1),
    })
    .strict(),
  prepare: ({ allowedTypes }) => ({
    allowed: new Set(allowedTypes),
    listed: allowedTypes.join(", "),
  }),
  validate(pod, { allowed, listed }) {
    const volumes = Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [];
    const findings: Finding[] = [];
    volumes.forEach((volume, index) => {
      if (volume === null || typeof volume !== "object") return;
      const sources = Object.keys(volume).filter(
        (key) => key !== "name" && volume[key] !== undefined && volume[key] !== null,
      );
      // The API server turns a volume without a source into an emptyDir.
      if (sources.length === 0) sources.push("emptyDir");
      if (sources.some((source) => allowed.has(source))) return;
      const source = sources[0] ?? "emptyDir";
      const name = JSON.stringify(volume.name ?? `#${index}`);
      findings.push({
        message: `uses volume ${name} of type ${source}; mount storage through a persistentVolumeClaim, csi or ephemeral volume instead (allowed here: ${listed})`,
        path: [...pod.specPath, "volumes", index, source],
      });
    });
    return findings;
  },
});
