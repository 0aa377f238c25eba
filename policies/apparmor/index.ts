import { z } from "zod";
import {
  CONFINING_PROFILE_TYPES,
  containersOf,
  definePolicy,
  effectiveSetting,
  type Finding,
  inheritedFromPod,
  toFieldPath,
} from "../../src/engine/index.js";

/** The annotations Kubernetes used before the appArmorProfile field; still honoured. */
const ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

function confiningAnnotation(value: string): boolean {
  return value === "" || value === "runtime/default" || value.startsWith("localhost/");
}

export default definePolicy({
  id: "apparmor",
  scope: "pod",
  parameters: z.object({}).strict(),
  validate(pod) {
    const findings: Finding[] = [];
    const containers = containersOf(pod);
    for (const c of containers) {
      const profile = effectiveSetting(pod, c, "appArmorProfile");
      if (profile.value === undefined) continue;
      const type = profile.value?.type;
      if (typeof type === "string" && CONFINING_PROFILE_TYPES.includes(type)) continue;
      const path = [...profile.path, "type"];
      const shown = type === undefined ? "no type" : `type ${JSON.stringify(type)}`;
      findings.push({
        message: inheritedFromPod(c, profile)
          ? `inherits an AppArmor profile with ${shown} from the pod (${toFieldPath(path)}); set it to RuntimeDefault, or give the container its own RuntimeDefault or Localhost profile`
          : `sets an AppArmor profile with ${shown}, which removes the runtime's confinement; set securityContext.appArmorProfile.type to RuntimeDefault, or Localhost with a profile loaded on the nodes`,
        path,
        container: c,
      });
    }
    for (const [key, raw] of Object.entries(pod.metadata.annotations ?? {})) {
      if (!key.startsWith(ANNOTATION_PREFIX)) continue;
      const value = String(raw);
      if (confiningAnnotation(value)) continue;
      const name = key.slice(ANNOTATION_PREFIX.length);
      findings.push({
        message: `has annotation ${key}: ${JSON.stringify(value)}, which runs the container without AppArmor confinement; remove the annotation or set it to runtime/default or localhost/<profile>`,
        path: [...pod.metadataPath, "annotations", key],
        container: containers.find((c) => c.name === name),
      });
    }
    return findings;
  },
});
