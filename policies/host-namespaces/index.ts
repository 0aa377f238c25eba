import { z } from "zod";
import { definePolicy, type Finding } from "../../src/engine/index.js";

/** What sharing each host namespace gives the pod, for the message. */
const NAMESPACES = {
  hostNetwork: "the node's network stack, bypassing network policies",
  hostPID: "every process on the node",
  hostIPC: "the node's shared memory and IPC objects",
} as const;

const FIELDS = Object.entries(NAMESPACES) as [keyof typeof NAMESPACES, string][];

export default definePolicy({
  id: "host-namespaces",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    for (const [field, exposes] of FIELDS) {
      const value = pod.spec[field];
      if (value !== true) continue;
      findings.push({
        message: `sets ${field}: true, which exposes ${exposes}; remove ${field} or set it to false`,
        path: [...pod.specPath, field],
      });
    }
    return findings;
  },
});
