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
  readonly value: T | undefined;
  /** Where the winning value is set, or where to set it when neither level has it. */
  readonly path: Path;
}

/**
 * An effective setting whose path is built only when read: most callers
 * read only the value, and find nothing to report.
 */
class EffectiveSetting<T> implements Effective<T> {
  readonly value: T | undefined;
  readonly #base: Path;
  readonly #field: InheritedField;
  #path: Path | undefined;

  constructor(value: T | undefined, base: Path, field: InheritedField) {
    this.value = value;
    this.#base = base;
    this.#field = field;
  }

  get path(): Path {
    this.#path ??= [...this.#base, "securityContext", this.#field];
    return this.#path;
  }
}

/** The setting the kubelet applies: the container's own wins over the pod's. */
export function effectiveSetting<K extends InheritedField>(
  pod: PodTarget,
  container: ContainerTarget,
  field: K,
): Effective<SecurityContext[K]> {
  const own = container.container.securityContext?.[field];
  if (own !== undefined) return new EffectiveSetting(own, container.path, field);
  const inherited = pod.spec.securityContext?.[field];
  if (inherited !== undefined) return new EffectiveSetting(inherited, pod.specPath, field);
  return new EffectiveSetting<SecurityContext[K]>(undefined, container.path, field);
}
