import { z } from "zod";
import { containersOf, definePolicy, type Finding, scalarText } from "../../src/engine/index.js";

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;

export default definePolicy({
  id: "image-pull-policy",
  scope: "pod",
  parameters: z.object({ allowed: z.array(z.enum(PULL_POLICIES)).min(1) }).strict(),
  prepare: ({ allowed }) => ({
    allowed: allowed as readonly string[],
    choices: allowed.join(" or "),
  }),
  validate(pod, { allowed, choices }) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const value = c.container.imagePullPolicy;
      if (value === undefined || value === "") {
        findings.push({
          message: `does not set imagePullPolicy, so Kubernetes derives it from the image tag; set imagePullPolicy to ${choices}`,
          path: [...c.path, "imagePullPolicy"],
          container: c,
        });
      } else if (!allowed.includes(value)) {
        findings.push({
          // A client may send any JSON here, even an object whose toString is not a function.
          message: `sets imagePullPolicy to ${typeof value === "string" ? `"${value}"` : scalarText(value)}; use ${choices}`,
          path: [...c.path, "imagePullPolicy"],
          container: c,
        });
      }
    }
    return findings;
  },
});
