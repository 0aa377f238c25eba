import { z } from "zod";
import {
  addEachIfAbsent,
  type ContainerTarget,
  containersOf,
  definePolicy,
  type InheritedField,
  isWindowsPod,
  type Path,
  type PodTarget,
} from "../../src/engine/index.js";

/**
 * The API server refuses allowPrivilegeEscalation: false next to these, so
 * setting it would turn an exempted container into a rejected request.
 */
function requiresEscalation(c: ContainerTarget): boolean {
  const context = c.container.securityContext;
  const add = context?.capabilities?.add;
  return (
    context?.privileged === true ||
    (Array.isArray(add) && add.some((cap) => cap === "SYS_ADMIN" || cap === "CAP_SYS_ADMIN"))
  );
}

/** A pod-level default is useful only when some container does not decide for itself. */
function podDefaultNeeded(
  pod: PodTarget,
  containers: readonly ContainerTarget[],
  field: InheritedField,
): boolean {
  return (
    pod.spec.securityContext?.[field] === undefined &&
    containers.some((c) => c.container.securityContext?.[field] === undefined)
  );
}

export default definePolicy({
  id: "security-defaults",
  scope: "pod",
  parameters: z
    .object({
      runAsNonRoot: z.boolean(),
      seccompRuntimeDefault: z.boolean(),
      disallowPrivilegeEscalation: z.boolean(),
      dropAllCapabilities: z.boolean(),
    })
    .strict(),
  mutate(pod, params) {
    const containers = containersOf(pod);
    // Windows pods may not carry the Linux-only fields; runAsNonRoot is valid there.
    const linux = !isWindowsPod(pod);
    const podContext = [...pod.specPath, "securityContext"];
    const fields: [Path, unknown][] = [];
    if (params.runAsNonRoot && podDefaultNeeded(pod, containers, "runAsNonRoot")) {
      fields.push([[...podContext, "runAsNonRoot"], true]);
    }
    if (
      linux &&
      params.seccompRuntimeDefault &&
      podDefaultNeeded(pod, containers, "seccompProfile")
    ) {
      fields.push([[...podContext, "seccompProfile"], { type: "RuntimeDefault" }]);
    }
    if (linux) {
      for (const c of containers) {
        const context = [...c.path, "securityContext"];
        if (params.disallowPrivilegeEscalation && !requiresEscalation(c)) {
          fields.push([[...context, "allowPrivilegeEscalation"], false]);
        }
        if (params.dropAllCapabilities) {
          fields.push([[...context, "capabilities", "drop"], ["ALL"]]);
        }
      }
    }
    return addEachIfAbsent(pod.object, fields);
  },
});
