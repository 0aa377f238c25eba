import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

describe("required-labels", () => {
  it("warns once per missing key, on the object or on its pod template", () => {
    const deployment = objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop, labels: { team: payments, app.kubernetes.io/name: web } }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: mcr.microsoft.com/app/web:1.0 }]
`);
    const set = onlyPolicies(["required-labels"], { labels: ["app.kubernetes.io/name", "team"] });
    const verdict = run(set, deployment);
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations.map((v) => [v.action, v.path])).toEqual([
      ["warn", 'spec.template.metadata.labels["app.kubernetes.io/name"]'],
      ["warn", "spec.template.metadata.labels.team"],
    ]);
    expect(verdict.violations[0]?.message).toContain("under spec.template.metadata.labels");
  });

  it("reports a Pod's labels once", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: shop }
spec:
  containers: [{ name: app, image: mcr.microsoft.com/app:1.0 }]
`);
    expect(run(onlyPolicies(["required-labels"]), pod).violations).toHaveLength(1);
  });

  it("skips what a controller created", () => {
    const replicaSet = objectOf(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5c8d7f9b6a
  namespace: shop
  ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: web, uid: a1, controller: true }]
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: mcr.microsoft.com/app/web:1.0 }]
`);
    expect(run(onlyPolicies(["required-labels"]), replicaSet).violations).toEqual([]);
  });

  it("does not look at kinds outside its list", () => {
    const configMap = objectOf(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: shop }\n",
    );
    const verdict = run(onlyPolicies(["required-labels"]), configMap);
    expect(verdict.evaluated).toEqual([]);
  });
});
