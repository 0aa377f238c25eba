import { z } from "zod";
import { containersOf, definePolicy, type Finding, scalarText } from "../../src/engine/index.js";

export default definePolicy({
  id: "host-ports",
  scope: "pod",
  parameters: z
    .object({
      /** Host ports an operator has reserved for pods, e.g. a node-local DNS cache. */
      allowedPorts: z.array(z.number().int().min(1).max(65535)),
    })
    .strict(),
  validate(pod, params) {
    const allowed = new Set(params.allowedPorts);
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      const ports = Array.isArray(c.container.ports) ? c.container.ports : [];
      ports.forEach((port, index) => {
        const hostPort = port?.hostPort;
        if (hostPort === undefined || hostPort === null || hostPort === 0) return;
        if (allowed.has(hostPort)) return;
        findings.push({
          message: `binds host port ${scalarText(hostPort)} on the node's address; remove hostPort and expose the container through a Service`,
          path: [...c.path, "ports", index, "hostPort"],
          container: c,
        });
      });
    }
    return findings;
  },
});
