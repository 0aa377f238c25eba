import { describe, expect, it } from "vitest";
import { webDeployment } from "../support/manifests.js";
import { onlyPolicies, run } from "../support/policies.js";

describe("replicas", () => {
  it("counts an omitted replicas field as one, as the API server stores it", () => {
    const verdict = run(onlyPolicies(["replicas"]), webDeployment(""));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]?.action).toBe("warn");
    expect(verdict.violations[0]?.message).toContain("does not set replicas, so it runs 1 pod");
    expect(verdict.violations[0]?.message).toContain("at least 2");
  });

  it("uses minReplicas", () => {
    const set = onlyPolicies(["replicas"], { minReplicas: 3 });
    expect(run(set, webDeployment("replicas: 2")).violations[0]?.message).toContain(
      "runs 2 replicas",
    );
    expect(run(set, webDeployment("replicas: 3")).violations).toEqual([]);
    expect(
      run(onlyPolicies(["replicas"], { minReplicas: 1 }), webDeployment("")).violations,
    ).toEqual([]);
  });

  it("leaves workloads scaled to zero alone", () => {
    expect(run(onlyPolicies(["replicas"]), webDeployment("replicas: 0")).violations).toEqual([]);
  });
});
