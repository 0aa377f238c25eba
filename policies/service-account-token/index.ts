import { z } from "zod";
import { addIfAbsent, definePolicy } from "../../src/engine/index.js";

export default definePolicy({
  id: "service-account-token",
  scope: "pod",
  parameters: z.object({}).strict(),
  mutate(pod) {
    return addIfAbsent(pod.object, [...pod.specPath, "automountServiceAccountToken"], false);
  },
});
