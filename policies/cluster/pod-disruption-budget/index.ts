import { z } from "zod";
import {
  asRecord,
  type CheckOutcome,
  defineClusterCheck,
  type KubeObject,
  selectorMatches,
} from "../../../src/engine/index.js";
import { replicasOf } from "../../../src/engine/kit/index.js";

/** A budget's pod selector, or a replicated workload's pod labels and replica count. */
type Fact = { budget: unknown } | { labels: Record<string, string>; replicas: number };

function templateLabelsOf(workload: KubeObject): Record<string, string> {
  const labels = asRecord(asRecord(asRecord(asRecord(workload.spec)?.template)?.metadata)?.labels);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

function observe(object: KubeObject, kind: string): Fact | undefined {
  if (kind === "PodDisruptionBudget") return { budget: asRecord(object.spec)?.selector };
  const replicas = replicasOf(object) ?? 1;
  return replicas > 1 ? { labels: templateLabelsOf(object), replicas } : undefined;
}

export default defineClusterCheck({
  id: "pod-disruption-budget",
  parameters: z.object({}).strict(),
  observes: ["PodDisruptionBudget", "Deployment", "StatefulSet"],
  observe,
  judge(facts) {
    const budgets = new Map<string, unknown[]>();
    for (const { namespace, fact } of facts.observed) {
      if ("budget" in fact)
        budgets.set(namespace, [...(budgets.get(namespace) ?? []), fact.budget]);
    }
    const outcomes: CheckOutcome[] = [];
    for (const { namespace, subject, fact } of facts.observed) {
      if ("budget" in fact) continue;
      const covered = (budgets.get(namespace) ?? []).some((s) => selectorMatches(s, fact.labels));
      outcomes.push(
        covered
          ? { status: "pass", subject }
          : {
              status: "fail",
              subject,
              message: `runs ${fact.replicas} replicas but no PodDisruptionBudget selects its pods, so a node drain may evict them all at once; add a PodDisruptionBudget whose selector matches spec.template.metadata.labels`,
            },
      );
    }
    return outcomes;
  },
});
