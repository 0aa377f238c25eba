import { z } from "zod";
import { containersOf, definePolicy, describeValue, type Finding } from "../../src/engine/index.js";
import {
  isUnderEntry,
  parseRegistryEntry,
  registryEntryProblem,
} from "../../src/engine/kit/index.js";

const registryEntry = z.string().superRefine((entry, ctx) => {
  const problem = registryEntryProblem(entry);
  if (problem) ctx.addIssue({ code: "custom", message: `"${entry}" ${problem}` });
});

export default definePolicy({
  id: "trusted-registry",
  scope: "pod",
  parameters: z
    .object({
      registries: z
        .array(registryEntry)
        .min(1, "list at least one registry; to trust every registry, disable the policy"),
    })
    .strict(),
  // Entries are parsed once per policy set, not for every container of every request.
  prepare: ({ registries }) => ({
    entries: registries.map(parseRegistryEntry),
    listed: registries.join(", "),
  }),
  validate(pod, { entries, listed }) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const written = c.container.image;
      if (written !== undefined && typeof written !== "string") {
        findings.push({
          message: `sets image to ${describeValue(written)}, which the API server refuses; write the image reference as a string, from a trusted registry (${listed})`,
          path: [...c.path, "image"],
          container: c,
        });
        continue;
      }
      const ref = c.imageRef;
      if (!ref) {
        findings.push({
          message: `has no image; set image to a reference from a trusted registry (${listed})`,
          path: [...c.path, "image"],
          container: c,
        });
        continue;
      }
      if (entries.some((entry) => isUnderEntry(ref, entry))) continue;
      // The host is what the registries list is about; the repository path is in the image.
      findings.push({
        message:
          `uses image "${c.image}" from ${ref.registry}, which is not a trusted registry; ` +
          `pull it from one of ${listed}, or add its registry to the trusted-registry policy's registries`,
        path: [...c.path, "image"],
        container: c,
      });
    }
    return findings;
  },
});
