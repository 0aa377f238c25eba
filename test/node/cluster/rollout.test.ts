// 5. `kubectl rollout restart` of Tollgate while a client keeps applying
// objects in an enforced namespace: every compliant apply is admitted, every
// violating one is denied by Tollgate itself (never by a failed call), and the
// PodDisruptionBudget's healthy count never drops below what it demands.
import { beforeAll, describe, expect, it } from "vitest";
import {
  admissionRound,
  json,
  must,
  namespace,
  newAdmissionLoad,
  rolledOut,
  TOLLGATE_NAMESPACE,
  tollgateDeployment,
  tollgateJudges,
  trustNodeImages,
} from "./kube.js";

interface Budget {
  status: { currentHealthy?: number; desiredHealthy?: number; expectedPods?: number };
}

/** Applies kept going after the rollout finished, so the old pods' shutdown is covered too. */
const APPLIES_AFTER_ROLLOUT = 15;

describe("5. rollout restart of Tollgate under continuous applies", () => {
  let ns = "";
  beforeAll(async () => {
    await trustNodeImages();
    ns = namespace("rollout-load");
    await tollgateJudges(ns);
  });

  it("admits every compliant apply, denies every violating one itself, and the PDB holds", () => {
    const generation = tollgateDeployment().metadata.generation;
    must(["-n", TOLLGATE_NAMESPACE, "rollout", "restart", "deployment/tollgate"]);
    const load = newAdmissionLoad();
    const breaches: string[] = [];
    let samples = 0;
    let finished = false;
    let after = 0;
    // Bounded in count (and by a generous deadline, which only ends a stuck rollout).
    const deadline = Date.now() + 900_000;
    for (let i = 0; i < 2_000 && after < APPLIES_AFTER_ROLLOUT && Date.now() < deadline; i++) {
      admissionRound(load, ns, i);
      const budget = json<Budget>(["-n", TOLLGATE_NAMESPACE, "get", "pdb", "tollgate"]);
      samples++;
      const { currentHealthy = 0, desiredHealthy = 0 } = budget.status;
      if (currentHealthy < desiredHealthy) {
        breaches.push(`sample ${samples}: ${currentHealthy} healthy < ${desiredHealthy} desired`);
      }
      if (finished) after++;
      else {
        const d2 = tollgateDeployment();
        finished = d2.metadata.generation > generation && rolledOut(d2);
      }
    }
    console.log(
      `rollout restart: ${load.compliant} compliant applies, ${load.violating} violating dry runs, ${samples} PDB samples, ${load.failures.length} failures`,
    );
    expect(finished).toBe(true);
    expect(after).toBe(APPLIES_AFTER_ROLLOUT);
    expect(load.failures).toEqual([]);
    expect(breaches).toEqual([]);
  }, 1_000_000);
});
