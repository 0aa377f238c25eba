import { z } from "zod";
import { defineClusterCheck } from "../../../src/engine/index.js";
import { everyNamespaceHas } from "../../../src/engine/kit/index.js";

export default defineClusterCheck({
  id: "namespace-limit-range",
  parameters: z.object({}).strict(),
  observes: ["LimitRange"],
  observe: () => true,
  judge: (facts) =>
    everyNamespaceHas(
      facts,
      "has no LimitRange, so containers that set no requests or limits get none; add a LimitRange with default requests and limits",
    ),
});
