import { describe, expect, it } from "vitest";
import { compilePolicySet } from "../../src/engine/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const deployment = (podSpec: string, labels = "app: d") =>
  objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: d, namespace: web }
spec:
  selector: { matchLabels: { app: d } }
  template:
    metadata: { labels: { ${labels} } }
    spec:
${podSpec}
`);

const addsCapability = deployment(`      containers:
        - name: c
          image: mcr.microsoft.com/a:1
          securityContext: { capabilities: { add: [NET_ADMIN], drop: [ALL] } }`);

const mountsHostPath = deployment(`      volumes: [{ name: h, hostPath: { path: /var/run } }]
      containers: [{ name: c, image: mcr.microsoft.com/a:1 }]`);

describe("one fault, one finding", () => {
  it("reports an added capability once, by the policy with the stronger action", () => {
    const both = run(onlyPolicies(["capabilities", "capabilities-minimal"]), addsCapability);
    expect(both.violations.map((v) => [v.policy, v.action])).toEqual([["capabilities", "deny"]]);
    // The record still says both policies failed.
    const failed = both.results.filter((r) => r.status === "fail").map((r) => r.policy);
    expect(failed.sort()).toEqual(["capabilities", "capabilities-minimal"]);
    // With the stronger one turned to audit, the warning is the one kept.
    const audited = shippedPolicies()
      .filter((p) => p.declaration.id.startsWith("capabilities"))
      .map((p) => ({
        ...p,
        declaration: {
          ...p.declaration,
          enabled: true,
          action: p.declaration.id === "capabilities" ? ("audit" as const) : p.declaration.action,
        },
      }));
    const weaker = run(compilePolicySet(audited, []), addsCapability);
    expect(weaker.violations.map((v) => [v.policy, v.action])).toEqual([
      ["capabilities-minimal", "warn"],
    ]);
  });

  it("reports a hostPath volume once", () => {
    const verdict = run(onlyPolicies(["host-path", "volume-types"]), mountsHostPath);
    expect(verdict.violations.map((v) => v.policy)).toEqual(["host-path"]);
    expect(run(onlyPolicies(["volume-types"]), mountsHostPath).violations).toHaveLength(1);
  });

  it("keeps findings of unrelated policies on the same field", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: web }
spec:
  containers: [{ name: c, image: "nginx:latest" }]
`);
    const verdict = run(onlyPolicies(["image-tag", "trusted-registry"]), pod);
    expect(verdict.violations.map((v) => v.policy).sort()).toEqual([
      "image-tag",
      "trusted-registry",
    ]);
  });

  it("reports a label missing on a workload and its template once", () => {
    const verdict = run(
      onlyPolicies(["required-labels"]),
      deployment("      containers: [{ name: c, image: mcr.microsoft.com/a:1 }]"),
    );
    expect(verdict.violations.map((v) => v.path)).toEqual([
      'metadata.labels["app.kubernetes.io/name"]',
    ]);
    expect(verdict.violations[0]?.message).toContain("nor has its pod template");
  });
});
