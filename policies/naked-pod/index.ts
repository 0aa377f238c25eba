import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";

export default definePolicy({
  id: "naked-pod",
  scope: "object",
  parameters: z.object({}).strict(),
  validate({ object }) {
    const owners = Array.isArray(object.metadata?.ownerReferences)
      ? object.metadata.ownerReferences
      : [];
    if (owners.some((ref) => ref?.controller === true)) return [];
    return [
      {
        message:
          "has no controller, so nothing recreates it when its node fails or is drained; run it from a Deployment, StatefulSet, DaemonSet or Job instead",
        path: ["metadata", "ownerReferences"],
      },
    ];
  },
});
