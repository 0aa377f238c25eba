import { z } from "zod";
import {
  asRecord,
  defineClusterCheck,
  type KubeObject,
  selectsEveryPod,
} from "../../../src/engine/index.js";
import { everyNamespaceHas } from "../../../src/engine/kit/index.js";

/**
 * A default-deny ingress policy: it selects every pod of its namespace
 * (empty podSelector), its policyTypes include Ingress (an omitted
 * policyTypes always includes Ingress) and it has no ingress rules, so no
 * traffic is allowed in unless another policy allows it. A rule `{}` allows
 * everything, so any rule at all disqualifies the policy.
 */
export function isDefaultDenyIngress(policy: KubeObject): boolean {
  const spec = asRecord(policy.spec);
  if (!spec || !selectsEveryPod(spec.podSelector)) return false;
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : ["Ingress"];
  if (!types.includes("Ingress")) return false;
  return !Array.isArray(spec.ingress) || spec.ingress.length === 0;
}

export default defineClusterCheck({
  id: "namespace-default-deny",
  parameters: z.object({}).strict(),
  observes: ["NetworkPolicy"],
  observe: (policy) => (isDefaultDenyIngress(policy) ? true : undefined),
  judge: (facts) =>
    everyNamespaceHas(
      facts,
      "has no default-deny NetworkPolicy, so every pod accepts traffic from anywhere in the cluster; add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress] and no ingress rules, then allow what each application needs",
    ),
});
