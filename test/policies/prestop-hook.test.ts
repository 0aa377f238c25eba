import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

describe("prestop-hook", () => {
  it("audits regular containers only", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: shop }
spec:
  initContainers:
    - { name: proxy, image: mcr.microsoft.com/proxy:1.0, restartPolicy: Always }
  containers:
    - { name: app, image: mcr.microsoft.com/app:1.0 }
`);
    const verdict = run(onlyPolicies(["prestop-hook"]), pod);
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([]);
    expect(verdict.violations.map((v) => [v.path, v.action])).toEqual([
      ["spec.containers[0].lifecycle.preStop", "audit"],
    ]);
  });
});
