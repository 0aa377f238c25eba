import { z } from "zod";
import {
  containersOf,
  definePolicy,
  type Finding,
  type KubeObject,
  type PodTarget,
} from "../../src/engine/index.js";

const FIX = "use kubectl exec or kubectl debug for shell access and Azure Bastion to reach nodes";

function isTcp(protocol: unknown): boolean {
  return protocol === undefined || protocol === "TCP";
}

function isListed(ports: readonly number[], value: unknown): boolean {
  return typeof value === "number" && ports.includes(value);
}

function serviceFindings(object: KubeObject, ports: readonly number[]): Finding[] {
  const list = (object.spec as { ports?: unknown } | undefined)?.ports;
  if (!Array.isArray(list)) return [];
  const findings: Finding[] = [];
  list.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== "object") return;
    const { port, targetPort, protocol } = entry as Record<string, unknown>;
    if (!isTcp(protocol)) return;
    // targetPort defaults to port; a named targetPort is resolved on the pod, which is checked too.
    const field = isListed(ports, port) ? "port" : isListed(ports, targetPort) ? "targetPort" : "";
    if (!field) return;
    findings.push({
      message: `exposes SSH (${field} ${String(field === "port" ? port : targetPort)}); remove this port and the SSH server behind it, and ${FIX}`,
      path: ["spec", "ports", index, field],
    });
  });
  return findings;
}

function workloadFindings(pod: PodTarget | undefined, ports: readonly number[]): Finding[] {
  if (!pod) return [];
  const findings: Finding[] = [];
  for (const c of containersOf(pod)) {
    const list = c.container.ports;
    if (!Array.isArray(list)) continue;
    list.forEach((entry, index) => {
      if (entry === null || typeof entry !== "object" || !isTcp(entry.protocol)) return;
      for (const field of ["containerPort", "hostPort"] as const) {
        const port = entry[field];
        if (!isListed(ports, port)) continue;
        const where = field === "hostPort" ? " on the node" : "";
        findings.push({
          message: `opens SSH (${field} ${port})${where}; remove the SSH server and ${FIX}`,
          path: [...c.path, "ports", index, field],
          container: c,
        });
      }
    });
  }
  return findings;
}

export default definePolicy({
  id: "ssh-port",
  scope: "object",
  parameters: z
    .object({
      ports: z.array(z.number().int().min(1).max(65535)).min(1),
    })
    .strict(),
  validate({ object, resource, pod }, params) {
    return resource.kind === "Service"
      ? serviceFindings(object, params.ports)
      : workloadFindings(pod, params.ports);
  },
});
