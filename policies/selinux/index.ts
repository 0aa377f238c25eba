import { z } from "zod";
import {
  type ContainerTarget,
  containersOf,
  definePolicy,
  type Finding,
  type Path,
  type SeLinuxOptions,
} from "../../src/engine/index.js";

/** Types the container SELinux policy defines for ordinary containers. */
const CONTAINER_TYPES = new Set([
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

function check(
  options: SeLinuxOptions | undefined,
  path: Path,
  container: ContainerTarget | undefined,
): Finding[] {
  if (options === undefined || options === null) return [];
  const findings: Finding[] = [];
  const { type, user, role } = options;
  if (type !== undefined && type !== "" && !CONTAINER_TYPES.has(type)) {
    findings.push({
      message: `sets SELinux type ${JSON.stringify(type)}, which can lift the container's confinement; remove seLinuxOptions.type or use container_t, container_init_t, container_kvm_t or container_engine_t`,
      path: [...path, "type"],
      container,
    });
  }
  for (const [field, value] of [
    ["user", user],
    ["role", role],
  ] as const) {
    if (value === undefined || value === "") continue;
    findings.push({
      message: `sets SELinux ${field} ${JSON.stringify(value)}; remove seLinuxOptions.${field} and let the runtime choose it (only type and level may be set)`,
      path: [...path, field],
      container,
    });
  }
  return findings;
}

export default definePolicy({
  id: "selinux",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    // Both levels are checked: the pod's options also label the pod sandbox
    // and its volumes, so they matter even when every container has its own.
    // Paths are built only for options that are there: most pods set none.
    const podOptions = pod.spec.securityContext?.seLinuxOptions;
    const findings =
      podOptions === undefined || podOptions === null
        ? []
        : check(podOptions, [...pod.specPath, "securityContext", "seLinuxOptions"], undefined);
    for (const c of containersOf(pod)) {
      const options = c.container.securityContext?.seLinuxOptions;
      if (options === undefined || options === null) continue;
      findings.push(...check(options, [...c.path, "securityContext", "seLinuxOptions"], c));
    }
    return findings;
  },
});
