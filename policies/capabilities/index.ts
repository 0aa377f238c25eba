import { z } from "zod";
import { containersOf, definePolicy, type Finding, scalarText } from "../../src/engine/index.js";
import { DEFAULT_CAPABILITIES } from "../../src/engine/kit/index.js";

const allowed = new Set(DEFAULT_CAPABILITIES);

/** Explains a near miss such as `chown` or `CAP_CHOWN`, which runtimes do not treat as CHOWN. */
function spellingHint(name: string): string {
  const canonical = name.toUpperCase().replace(/^CAP_/, "");
  return canonical !== name && allowed.has(canonical)
    ? ` (capability names are upper case without the CAP_ prefix: write ${canonical})`
    : "";
}

export default definePolicy({
  id: "capabilities",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const add = c.container.securityContext?.capabilities?.add;
      if (!Array.isArray(add)) continue;
      add.forEach((capability, index) => {
        const name = scalarText(capability);
        if (allowed.has(name)) return;
        findings.push({
          message: `adds capability ${JSON.stringify(name)}, which is outside the container runtime's default set${spellingHint(name)}; remove it from securityContext.capabilities.add`,
          path: [...c.path, "securityContext", "capabilities", "add", index],
          container: c,
        });
      });
    }
    return findings;
  },
});
