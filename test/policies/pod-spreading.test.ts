import { describe, expect, it } from "vitest";
import { webDeployment } from "../support/manifests.js";
import { onlyPolicies, run } from "../support/policies.js";

const byPool =
  "topologySpreadConstraints: [{ maxSkew: 1, topologyKey: kubernetes.azure.com/agentpool, whenUnsatisfiable: ScheduleAnyway }]";

describe("pod-spreading", () => {
  it("ignores workloads without more than one replica", () => {
    expect(run(onlyPolicies(["pod-spreading"]), webDeployment("", "")).violations).toEqual([]);
    expect(
      run(onlyPolicies(["pod-spreading"]), webDeployment("replicas: 1", "")).violations,
    ).toEqual([]);
  });

  it("warns with a fix naming the accepted keys", () => {
    const verdict = run(onlyPolicies(["pod-spreading"]), webDeployment("replicas: 2", ""));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]?.action).toBe("warn");
    expect(verdict.violations[0]?.message).toContain(
      "kubernetes.io/hostname or topology.kubernetes.io/zone",
    );
  });

  it("is satisfied by any one rule on an accepted key", () => {
    const mixed = webDeployment(
      "replicas: 2",
      `topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: kubernetes.azure.com/agentpool, whenUnsatisfiable: ScheduleAnyway }
        - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway }`,
    );
    expect(run(onlyPolicies(["pod-spreading"]), mixed).violations).toEqual([]);
  });

  it("uses topologyKeys", () => {
    const set = onlyPolicies(["pod-spreading"], {
      topologyKeys: ["kubernetes.azure.com/agentpool"],
    });
    expect(run(set, webDeployment("replicas: 2", byPool)).violations).toEqual([]);
    expect(
      run(onlyPolicies(["pod-spreading"]), webDeployment("replicas: 2", byPool)).violations,
    ).toHaveLength(1);
  });
});
