import { describe, expect, it } from "vitest";
import { evaluate, inputFromObject, type KubeObject } from "../../src/engine/index.js";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const set = onlyPolicies(["default-namespace"]);

function object(kind: string, name: string, namespace?: string): KubeObject {
  const ns = namespace === undefined ? "" : `, namespace: ${namespace}`;
  return objectOf(`
apiVersion: v1
kind: ${kind}
metadata: { name: ${name}${ns} }
`);
}

describe("default-namespace", () => {
  it("denies by default", () => {
    const verdict = run(set, object("ConfigMap", "settings", "default"));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]).toMatchObject({ action: "deny", path: "metadata.namespace" });
    expect(verdict.violations[0]?.message).toContain("create a namespace for the application");
  });

  it("passes Roles and RoleBindings in default, which can only grant access there", () => {
    const rbac = (kind: string, apiVersion = "rbac.authorization.k8s.io/v1") =>
      objectOf(`
apiVersion: ${apiVersion}
kind: ${kind}
metadata: { name: prometheus-k8s, namespace: default }
`);
    expect(run(set, rbac("Role")).violations).toEqual([]);
    expect(run(set, rbac("RoleBinding")).violations).toEqual([]);
    // A custom resource that happens to be called Role is not RBAC.
    expect(run(set, rbac("Role", "example.com/v1")).violations).toHaveLength(1);
    expect(run(set, object("ServiceAccount", "prometheus-k8s", "default")).violations).toHaveLength(
      1,
    );
  });

  it("applies to kinds it has never heard of", () => {
    const custom = objectOf(`
apiVersion: example.com/v1
kind: Widget
metadata: { name: w, namespace: default }
`);
    expect(run(set, custom).violations).toHaveLength(1);
  });

  it("uses the request's namespace when the object does not name one", () => {
    const input = inputFromObject(object("Secret", "token"), { namespace: "default" });
    const verdict = evaluate(input, set, { mode: "enforce", phase: "both" });
    expect(verdict.allowed).toBe(false);
  });

  it("passes cluster-scoped objects and manifests without a namespace", () => {
    expect(run(set, object("PersistentVolume", "pv-1")).violations).toEqual([]);
    expect(run(set, object("Secret", "token")).violations).toEqual([]);
  });

  it("passes the namespace object itself, even when the request names it", () => {
    const input = inputFromObject(object("Namespace", "default"), { namespace: "default" });
    expect(evaluate(input, set, { mode: "enforce", phase: "both" }).violations).toEqual([]);
  });

  it.each([
    ["Service", "kubernetes"],
    ["Endpoints", "kubernetes"],
    ["EndpointSlice", "kubernetes"],
    ["ServiceAccount", "default"],
    ["ConfigMap", "kube-root-ca.crt"],
    ["Event", "node-1.17d2a1b3c4"],
  ])("lets the control plane write %s %s", (kind, name) => {
    expect(run(set, object(kind, name, "default")).violations).toEqual([]);
  });

  it.each([
    ["ServiceAccount", "app"],
    ["ConfigMap", "kubernetes"],
    ["Deployment", "default"],
  ])("still flags a user's %s %s", (kind, name) => {
    expect(run(set, object(kind, name, "default")).violations).toHaveLength(1);
  });

  it("only warns when an object already in default is updated", () => {
    const existing = object("ConfigMap", "legacy", "default");
    const verdict = run(set, existing, { operation: "UPDATE", oldObject: existing });
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]?.action).toBe("warn");
  });
});
