import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "image-tag",
  scope: "pod",
  parameters: z.object({ forbiddenTags: z.array(z.string().min(1)) }).strict(),
  prepare: ({ forbiddenTags }) => new Set(forbiddenTags.map((t) => t.toLowerCase())),
  validate(pod, forbidden) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const ref = c.imageRef;
      // A digest pins the content whatever the tag says.
      if (!ref || ref.digest) continue;
      const path = [...c.path, "image"];
      if (!ref.tag) {
        findings.push({
          message: `uses image "${c.image}" without a tag, which means latest; add a version tag or pin a digest (image@sha256:...)`,
          path,
          container: c,
        });
      } else if (forbidden.has(ref.tag.toLowerCase())) {
        findings.push({
          message: `uses image "${c.image}" with the moving tag "${ref.tag}"; use a version tag or pin a digest (image@sha256:...)`,
          path,
          container: c,
        });
      }
    }
    return findings;
  },
});
