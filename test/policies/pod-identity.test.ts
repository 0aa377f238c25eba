import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const set = () => onlyPolicies(["pod-identity"]);

describe("pod-identity", () => {
  it("warns without blocking in enforce mode", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps, labels: { aadpodidbinding: "" } }
spec: { containers: [{ name: app, image: mcr.microsoft.com/app:1.0 }] }
`);
    const verdict = run(set(), pod);
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toHaveLength(1);
    expect(verdict.warnings[0]).toContain("azure.workload.identity/use");
  });

  it("ignores pod identity's own objects other than identities and bindings", () => {
    const exception = objectOf(`
apiVersion: aadpodidentity.k8s.io/v1
kind: AzureAssignedIdentity
metadata: { name: a, namespace: apps }
spec: {}
`);
    expect(run(set(), exception).violations).toEqual([]);
  });

  it("looks at the pod template's labels, not the workload's own", () => {
    const deployment = objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: d, namespace: apps, labels: { aadpodidbinding: old } }
spec:
  selector: { matchLabels: { app: d } }
  template:
    metadata: { labels: { app: d } }
    spec: { containers: [{ name: app, image: mcr.microsoft.com/app:1.0 }] }
`);
    expect(run(set(), deployment).violations).toEqual([]);
  });
});
