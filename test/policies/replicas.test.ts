import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

function deployment(replicas: string): ReturnType<typeof objectOf> {
  return objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: mcr.microsoft.com/app/web:1.0 }]
`);
}

describe("replicas", () => {
  it("counts an omitted replicas field as one, as the API server stores it", () => {
    const verdict = run(onlyPolicies(["replicas"]), deployment(""));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]?.action).toBe("warn");
    expect(verdict.violations[0]?.message).toContain("does not set replicas, so it runs 1 pod");
    expect(verdict.violations[0]?.message).toContain("at least 2");
  });

  it("uses minReplicas", () => {
    const set = onlyPolicies(["replicas"], { minReplicas: 3 });
    expect(run(set, deployment("replicas: 2")).violations[0]?.message).toContain("runs 2 replicas");
    expect(run(set, deployment("replicas: 3")).violations).toEqual([]);
    expect(run(onlyPolicies(["replicas"], { minReplicas: 1 }), deployment("")).violations).toEqual(
      [],
    );
  });

  it("leaves workloads scaled to zero alone", () => {
    expect(run(onlyPolicies(["replicas"]), deployment("replicas: 0")).violations).toEqual([]);
  });
});
