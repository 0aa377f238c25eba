import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";
import { containerSettingFindings, isWindowsPod } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "privilege-escalation",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Windows has no set-user-ID escalation and rejects the field.
    if (isWindowsPod(pod)) return [];
    return containerSettingFindings(
      pod,
      "allowPrivilegeEscalation",
      (value) => value === false,
      (value) =>
        value === undefined
          ? "leaves allowPrivilegeEscalation unset, so set-user-ID programs can gain root; set securityContext.allowPrivilegeEscalation to false"
          : `sets allowPrivilegeEscalation: ${JSON.stringify(value)}, so set-user-ID programs can gain root; set it to false`,
    );
  },
});
