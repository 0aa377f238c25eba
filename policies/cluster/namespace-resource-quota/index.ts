import { z } from "zod";
import { defineClusterCheck } from "../../../src/engine/index.js";
import { everyNamespaceHas } from "../../../src/engine/kit/index.js";

export default defineClusterCheck({
  id: "namespace-resource-quota",
  parameters: z.object({}).strict(),
  observes: ["ResourceQuota"],
  observe: () => true,
  judge: (facts) =>
    everyNamespaceHas(
      facts,
      "has no ResourceQuota, so one team can use up the cluster's CPU, memory or object counts; add a ResourceQuota sized for the namespace",
    ),
});
