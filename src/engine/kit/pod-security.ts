// Facts shared by the pod-security policies (the Pod Security Standards
// equivalents). Each policy keeps its own rule; only the lists and the small
// predicates that more than one policy needs live here.
import type { SecurityContext } from "../kube.js";
import type { Finding } from "../policy.js";
import { type ContainerTarget, containersOf, type PodTarget } from "../workloads.js";
import type { Effective } from "./security.js";

/**
 * Capabilities the container runtime grants by default, minus NET_RAW. The
 * baseline level lets a container add these back; anything else widens what
 * root in the container can do to the node.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

/**
 * Sysctls that are namespaced per pod and cannot affect other pods on the
 * node: the baseline "safe" set as of Kubernetes 1.37.
 */
export const SAFE_SYSCTLS: readonly string[] = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_notsent_lowat",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_slow_start_after_idle",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.tcp_wmem",
];

/** Seccomp and AppArmor profile types that keep a container confined. */
export const CONFINING_PROFILE_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

/**
 * True when the pod declares `spec.os.name: windows`. Like Pod Security
 * Admission, the Linux-only restricted checks skip such pods: the API server
 * rejects those Linux fields on them anyway.
 */
export function isWindowsPod(pod: PodTarget): boolean {
  return pod.spec.os?.name === "windows";
}

/** True when the pod runs in its own user namespace (`hostUsers: false`). */
export function inUserNamespace(pod: PodTarget): boolean {
  return pod.spec.hostUsers === false;
}

/** True when the effective value comes from the pod's securityContext, not the container's own. */
export function inheritedFromPod(
  container: ContainerTarget,
  effective: Effective<unknown>,
): boolean {
  if (effective.value === undefined) return false;
  return container.path.some((segment, i) => effective.path[i] !== segment);
}

/** `"pod"` or `"container"`, for messages that must say where to change a value. */
export function levelOf(container: ContainerTarget, effective: Effective<unknown>): string {
  return inheritedFromPod(container, effective) ? "pod" : "container";
}

/**
 * One finding per container whose own `securityContext[field]` is not what
 * `isCompliant` accepts: the shape of every rule about a container-only
 * security setting.
 */
export function containerSettingFindings<K extends keyof SecurityContext>(
  pod: PodTarget,
  field: K,
  isCompliant: (value: SecurityContext[K] | undefined) => boolean,
  describe: (value: SecurityContext[K] | undefined) => string,
): Finding[] {
  const findings: Finding[] = [];
  for (const c of containersOf(pod)) {
    const value = c.container.securityContext?.[field];
    if (isCompliant(value)) continue;
    findings.push({
      message: describe(value),
      path: [...c.path, "securityContext", field],
      container: c,
    });
  }
  return findings;
}
