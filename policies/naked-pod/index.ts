import { z } from "zod";
import { controllerOf, definePolicy } from "../../src/engine/index.js";

export default definePolicy({
  id: "naked-pod",
  scope: "object",
  parameters: z.object({}).strict(),
  validate({ object }) {
    if (controllerOf(object)) return [];
    return [
      {
        message:
          "has no controller, so nothing recreates it when its node fails or is drained; run it from a Deployment, StatefulSet, DaemonSet or Job instead",
        path: ["metadata", "ownerReferences"],
      },
    ];
  },
});
