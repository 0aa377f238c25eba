import { z } from "zod";
import {
  containersOf,
  definePolicy,
  type Finding,
  type ObjectTarget,
} from "../../src/engine/index.js";
import { isDashboardRepository } from "../../src/engine/kit/index.js";

const DASHBOARD = "kubernetes-dashboard";

const REMEDY =
  "so the Kubernetes dashboard looks installed; remove it and use the Azure portal or kubectl, which use each user's own credentials";

/** A Deployment that runs a dashboard image is the `dashboard` policy's finding, not this one's. */
function runsDashboardImage({ pod }: ObjectTarget): boolean {
  if (!pod) return false;
  return containersOf(pod).some((c) => c.imageRef && isDashboardRepository(c.imageRef.repository));
}

export default definePolicy({
  id: "kubernetes-dashboard",
  scope: "object",
  parameters: z.object({}).strict(),
  validate(target) {
    const { object, resource } = target;
    if (runsDashboardImage(target)) return [];
    const findings: Finding[] = [];
    if (resource.name === DASHBOARD || resource.name.startsWith(`${DASHBOARD}-`)) {
      findings.push({
        message: `is named ${resource.name}, ${REMEDY}`,
        path: ["metadata", "name"],
      });
      return findings;
    }
    const labels = object.metadata?.labels;
    if (!labels || typeof labels !== "object") return findings;
    const label = Object.entries(labels).find(([, value]) => value === DASHBOARD);
    if (label) {
      findings.push({
        message: `is labelled ${label[0]}=${label[1]}, ${REMEDY}`,
        path: ["metadata", "labels", label[0]],
      });
    }
    return findings;
  },
});
