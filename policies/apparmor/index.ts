import { z } from "zod";
import {
  asRecord,
  type ContainerTarget,
  containersOf,
  definePolicy,
  type Finding,
  scalarText,
} from "../../src/engine/index.js";
import { unconfinedProfileFindings } from "../../src/engine/kit/index.js";

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
    const findings: Finding[] = unconfinedProfileFindings(
      pod,
      "appArmorProfile",
      ({ shown, inheritedFrom }) =>
        inheritedFrom
          ? `inherits an AppArmor profile with ${shown} from the pod (${inheritedFrom}); set it to RuntimeDefault, or give the container its own RuntimeDefault or Localhost profile`
          : `sets an AppArmor profile with ${shown}, which removes the runtime's confinement; set securityContext.appArmorProfile.type to RuntimeDefault, or Localhost with a profile loaded on the nodes`,
    );
    // Looked up by name once, not per annotation: both lists come from the request.
    let byName: Map<string, ContainerTarget> | undefined;
    // Annotations sent as a string are not entries: a 1 MiB string was a
    // million of them, over a second of one request (npm run fuzz).
    for (const [key, raw] of Object.entries(asRecord(pod.metadata.annotations) ?? {})) {
      if (!key.startsWith(ANNOTATION_PREFIX)) continue;
      const value = scalarText(raw);
      if (confiningAnnotation(value)) continue;
      byName ??= firstByName(containersOf(pod));
      const name = key.slice(ANNOTATION_PREFIX.length);
      findings.push({
        message: `has annotation ${key}: ${JSON.stringify(value)}, which runs the container without AppArmor confinement; remove the annotation or set it to runtime/default or localhost/<profile>`,
        path: [...pod.metadataPath, "annotations", key],
        container: byName.get(name),
      });
    }
    return findings;
  },
});

/** The first container of each name, as `Array.find` would pick it. */
function firstByName(containers: readonly ContainerTarget[]): Map<string, ContainerTarget> {
  const byName = new Map<string, ContainerTarget>();
  for (const c of containers) if (!byName.has(c.name)) byName.set(c.name, c);
  return byName;
}
