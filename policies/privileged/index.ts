import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";
import { containerSettingFindings } from "../../src/engine/kit/index.js";

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
