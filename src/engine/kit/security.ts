import type { SecurityContext } from "../kube.js";
import type { Path } from "../paths.js";
import type { ContainerTarget, PodTarget } from "../workloads.js";

/** Fields a container may set for itself that otherwise fall back to the pod's. */
export type InheritedField =
  | "runAsNonRoot"
  | "runAsUser"
  | "seccompProfile"
  | "appArmorProfile"
  | "seLinuxOptions"
  | "windowsOptions";

export interface Effective<T> {
  value: T | undefined;
  /** Where the winning value is set, or where to set it when neither level has it. */
  path: Path;
}

/** The setting the kubelet applies: the container's own wins over the pod's. */
export function effectiveSetting<K extends InheritedField>(
  pod: PodTarget,
  container: ContainerTarget,
  field: K,
): Effective<SecurityContext[K]> {
  const own = container.container.securityContext?.[field];
  if (own !== undefined) return { value: own, path: [...container.path, "securityContext", field] };
  const inherited = pod.spec.securityContext?.[field];
  if (inherited !== undefined) {
    return { value: inherited, path: [...pod.specPath, "securityContext", field] };
  }
  return { value: undefined, path: [...container.path, "securityContext", field] };
}
