import { z } from "zod";
import { definePolicy, globMatcher } from "../../src/engine/index.js";

const INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal";

export default definePolicy({
  id: "internal-load-balancer",
  scope: "object",
  parameters: z
    .object({
      allowPublic: z.array(
        z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be "namespace/name"; both parts may be globs'),
      ),
    })
    .strict(),
  validate({ object, resource }, params) {
    const spec = object.spec as { type?: unknown } | undefined;
    if (spec?.type !== "LoadBalancer") return [];
    const annotations = object.metadata?.annotations;
    const value =
      annotations && typeof annotations === "object" ? annotations[INTERNAL] : undefined;
    if (value === "true") return [];
    // Compiled per call, and only for a public load balancer: those are few.
    if (globMatcher(params.allowPublic)(`${resource.namespace ?? ""}/${resource.name}`)) return [];
    const problem =
      value === undefined
        ? `has no ${INTERNAL} annotation`
        : `sets ${INTERNAL} to ${JSON.stringify(value)}, which Azure reads as public`;
    return [
      {
        message:
          `is a LoadBalancer that ${problem}, so it gets a public IP; ` +
          `annotate it ${INTERNAL}: "true" to keep it on the virtual network, ` +
          `or, if it must face the Internet, add "${resource.namespace ?? ""}/${resource.name}" to allowPublic`,
        path: ["metadata", "annotations", INTERNAL],
      },
    ];
  },
});
