import { z } from "zod";
import { containersOf, definePolicy, type Finding } from "../../src/engine/index.js";

export default definePolicy({
  id: "prestop-hook",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      if (c.group !== "containers" || c.container.lifecycle?.preStop) continue;
      findings.push({
        message:
          "has no lifecycle.preStop hook; add one that lets in-flight work finish (for example a short sleep while endpoints are removed) before the container is stopped",
        path: [...c.path, "lifecycle", "preStop"],
        container: c,
      });
    }
    return findings;
  },
});
