import { z } from "zod";
import {
  type ContainerTarget,
  containersOf,
  definePolicy,
  type Path,
  type PodTarget,
} from "../../src/engine/index.js";
import {
  addEachIfAbsent,
  effectiveSetting,
  type InheritedField,
  isWindowsPod,
} from "../../src/engine/kit/index.js";

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

/**
 * runAsNonRoot makes the kubelet check the user the container starts as. Without
 * a runAsUser it checks the image's USER, which Tollgate cannot see: an image
 * running as root (busybox, rabbitmq) or as a named user would then fail to
 * start (CreateContainerConfigError) after Tollgate admitted it. So the
 * default goes in only where every container it would reach runs as a
 * numbered non-root user by its spec; elsewhere run-as-non-root reports the
 * missing setting and the author decides.
 */
function runsAsNonRootUser(pod: PodTarget, c: ContainerTarget): boolean {
  const user = effectiveSetting(pod, c, "runAsUser").value;
  return typeof user === "number" && Number.isInteger(user) && user > 0;
}

const ESCALATION = ["allowPrivilegeEscalation"] as const;
const DROP = ["capabilities", "drop"] as const;

/**
 * Whether the container's own securityContext already holds a value at
 * `path`, where addIfAbsent would add nothing: most containers of a
 * compliant pod set both fields, and need no path built or walked from the
 * object's root for them.
 */
function alreadySet(c: ContainerTarget, path: readonly string[]): boolean {
  let node: unknown = c.container.securityContext;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return node !== undefined && node !== null;
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
    // Windows pods may not carry the Linux-only fields, and their user is a
    // name (windowsOptions.runAsUserName), not a number the rule above can read.
    const linux = !isWindowsPod(pod);
    const podContext = [...pod.specPath, "securityContext"];
    const fields: [Path, unknown][] = [];
    if (
      linux &&
      params.runAsNonRoot &&
      podDefaultNeeded(pod, containers, "runAsNonRoot") &&
      containers.every(
        (c) => c.container.securityContext?.runAsNonRoot !== undefined || runsAsNonRootUser(pod, c),
      )
    ) {
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
        if (
          params.disallowPrivilegeEscalation &&
          !requiresEscalation(c) &&
          !alreadySet(c, ESCALATION)
        ) {
          fields.push([[...c.path, "securityContext", ...ESCALATION], false]);
        }
        if (params.dropAllCapabilities && !alreadySet(c, DROP)) {
          fields.push([[...c.path, "securityContext", ...DROP], ["ALL"]]);
        }
      }
    }
    return addEachIfAbsent(pod.object, fields);
  },
});
