import { z } from "zod";
import { containerSettingFindings, definePolicy } from "../../src/engine/index.js";

export default definePolicy({
  id: "privileged",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    return containerSettingFindings(
      pod,
      "privileged",
      (value) => value !== true,
      () => "runs privileged; remove securityContext.privileged or set it to false",
    );
  },
});
