import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";

/** Objects the control plane writes into `default` itself; blocking them breaks the cluster. */
const CONTROL_PLANE_OBJECTS: ReadonlySet<string> = new Set([
  "Service/kubernetes",
  "Endpoints/kubernetes",
  "EndpointSlice/kubernetes",
  "ServiceAccount/default",
  "ConfigMap/kube-root-ca.crt",
]);

/**
 * A Role or RoleBinding grants access only inside its own namespace, so the
 * ones about `default` itself (kube-prometheus reads it, for one) must live
 * there: moving them elsewhere would grant nothing.
 */
function grantsAccessToDefault({ apiVersion, kind }: { apiVersion: string; kind: string }) {
  return (
    apiVersion.startsWith("rbac.authorization.k8s.io/") &&
    (kind === "Role" || kind === "RoleBinding")
  );
}

/** Kinds that are never deployed by people: records, or the namespace object itself. */
const IGNORED_KINDS: ReadonlySet<string> = new Set(["Event", "Namespace"]);

export default definePolicy({
  id: "default-namespace",
  scope: "object",
  parameters: z.object({}).strict(),
  validate({ resource }) {
    if (resource.namespace !== "default" || IGNORED_KINDS.has(resource.kind)) return [];
    if (CONTROL_PLANE_OBJECTS.has(`${resource.kind}/${resource.name}`)) return [];
    if (grantsAccessToDefault(resource)) return [];
    return [
      {
        message:
          "is in the default namespace; create a namespace for the application and set metadata.namespace to it",
        path: ["metadata", "namespace"],
      },
    ];
  },
});
