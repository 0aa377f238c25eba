import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

function pod(owners: string): ReturnType<typeof objectOf> {
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: shop, ownerReferences: ${owners} }
spec:
  containers: [{ name: app, image: mcr.microsoft.com/app:1.0 }]
`);
}

describe("naked-pod", () => {
  it("warns about a Pod without a controller", () => {
    const verdict = run(onlyPolicies(["naked-pod"]), pod("[]"));
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings[0]).toContain('Pod "app": has no controller');
  });

  it("accepts any controller, mirror pods' Node included", () => {
    const mirror = pod("[{ apiVersion: v1, kind: Node, name: node-1, uid: n1, controller: true }]");
    expect(run(onlyPolicies(["naked-pod"]), mirror).violations).toEqual([]);
  });

  it("does not count an owner with controller: false", () => {
    const owned = pod(
      "[{ apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: r1, controller: false }]",
    );
    expect(run(onlyPolicies(["naked-pod"]), owned).violations).toHaveLength(1);
  });
});
