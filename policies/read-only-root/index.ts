import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";
import { containerSettingFindings, isWindowsPod } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "read-only-root",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Windows containers cannot have a read-only root filesystem.
    if (isWindowsPod(pod)) return [];
    return containerSettingFindings(
      pod,
      "readOnlyRootFilesystem",
      (value) => value === true,
      (value) =>
        `${value === undefined ? "leaves" : "sets"} its root filesystem writable; set securityContext.readOnlyRootFilesystem to true and mount an emptyDir volume where the process must write (such as /tmp)`,
    );
  },
});
