import { z } from "zod";
import { controllerOf, definePolicy, getAt } from "../../src/engine/index.js";
import { replicasOf } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "replicas",
  scope: "object",
  parameters: z.object({ minReplicas: z.number().int().min(1) }).strict(),
  validate({ object }, { minReplicas }) {
    // A controlled object runs as many pods as its controller sets.
    if (controllerOf(object)) return [];
    const declared = getAt(object, ["spec", "replicas"]);
    const replicas = replicasOf(object);
    if (replicas === undefined || replicas === 0 || replicas >= minReplicas) return [];
    const stated =
      declared === undefined || declared === null
        ? "does not set replicas, so it runs 1 pod"
        : `runs ${replicas} replica${replicas === 1 ? "" : "s"}`;
    return [
      {
        message: `${stated}, and a single crash or eviction leaves it with too few; set spec.replicas to at least ${minReplicas}`,
        path: ["spec", "replicas"],
      },
    ];
  },
});
