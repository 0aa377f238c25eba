import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";
import { declaredResource } from "../../src/engine/kit/index.js";

type Kind = "requests" | "limits";
type Resource = "cpu" | "memory";

const HOW: Record<Kind, Record<Resource, string>> = {
  requests: {
    cpu: "set resources.requests.cpu (for example 100m) so the scheduler reserves CPU for it",
    memory:
      "set resources.requests.memory (for example 128Mi) so the scheduler reserves memory for it",
  },
  limits: {
    cpu: "set resources.limits.cpu (for example 500m) to cap its CPU use",
    memory:
      "set resources.limits.memory (for example 256Mi) so a leak cannot exhaust the node's memory",
  },
};

export default definePolicy({
  id: "resources",
  scope: "pod",
  parameters: z.object({ requireCpuLimit: z.boolean() }).strict(),
  prepare: ({ requireCpuLimit }): readonly (readonly [Kind, Resource])[] => [
    ["requests", "cpu"],
    ["requests", "memory"],
    ["limits", "memory"],
    ...(requireCpuLimit ? [["limits", "cpu"] as const] : []),
  ],
  validate(pod, required) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      if (c.group === "ephemeralContainers") continue;
      for (const [kind, resource] of required) {
        if (declaredResource(c.container, kind, resource) !== undefined) continue;
        // The API server defaults a missing request to the limit.
        if (
          kind === "requests" &&
          declaredResource(c.container, "limits", resource) !== undefined
        ) {
          continue;
        }
        const what = kind === "requests" ? `${resource} request` : `${resource} limit`;
        findings.push({
          message: `has no ${what}; ${HOW[kind][resource]}`,
          path: [...c.path, "resources", kind, resource],
          container: c,
        });
      }
    }
    return findings;
  },
});
