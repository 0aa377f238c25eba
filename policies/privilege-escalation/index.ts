import { z } from "zod";
import { containerSettingFindings, definePolicy, isWindowsPod } from "../../src/engine/index.js";

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
