import { z } from "zod";
import { containersOf, definePolicy, type Finding, scalarText } from "../../src/engine/index.js";
import { isWindowsPod } from "../../src/engine/kit/index.js";

export default definePolicy({
  id: "capabilities-minimal",
  scope: "pod",
  parameters: z
    .object({
      /** Capabilities a container may add back after dropping ALL. */
      allowedAdds: z.array(z.string().min(1)),
    })
    .strict(),
  prepare: ({ allowedAdds }) => ({
    allowed: new Set(allowedAdds),
    permitted: allowedAdds.length > 0 ? allowedAdds.join(", ") : "nothing",
  }),
  validate(pod, { allowed, permitted }) {
    // Windows containers have no Linux capabilities and reject the field.
    if (isWindowsPod(pod)) return [];
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const capabilities = c.container.securityContext?.capabilities;
      const drop = capabilities?.drop;
      if (!Array.isArray(drop) || !drop.includes("ALL")) {
        findings.push({
          message:
            'keeps the runtime\'s default capabilities; set securityContext.capabilities.drop to ["ALL"] and add back only what the process needs',
          path: [...c.path, "securityContext", "capabilities", "drop"],
          container: c,
        });
      }
      const add = capabilities?.add;
      if (!Array.isArray(add)) continue;
      add.forEach((capability, index) => {
        const name = scalarText(capability);
        if (allowed.has(name)) return;
        findings.push({
          message: `adds capability ${JSON.stringify(name)}; remove it from securityContext.capabilities.add (this policy allows adding ${permitted})`,
          path: [...c.path, "securityContext", "capabilities", "add", index],
          container: c,
        });
      });
    }
    return findings;
  },
});
