import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

function pod(pullPolicy: string | undefined) {
  const line = pullPolicy === undefined ? "" : `\n      imagePullPolicy: ${pullPolicy}`;
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0${line}
`);
}

describe("image-pull-policy", () => {
  it("only audits by default", () => {
    const verdict = run(onlyPolicies(["image-pull-policy"]), pod(undefined));
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([]);
    expect(verdict.violations[0]?.action).toBe("audit");
    expect(verdict.auditAnnotations["image-pull-policy"]).toContain("imagePullPolicy");
  });

  it.each([
    ["Always", 0],
    ["IfNotPresent", 0],
    ["Never", 1],
    ["always", 1],
  ] as const)("judges %s against the default list", (value, count) => {
    expect(run(onlyPolicies(["image-pull-policy"]), pod(value)).violations).toHaveLength(count);
  });

  it("uses the allowed parameter", () => {
    const set = onlyPolicies(["image-pull-policy"], { allowed: ["Always"] });
    expect(run(set, pod("IfNotPresent")).violations[0]?.message).toContain("use Always");
    expect(run(set, pod("Always")).violations).toEqual([]);
  });
});
