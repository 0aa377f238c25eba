import { describe, expect, it } from "vitest";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

function service(namespace: string, name: string, type = "LoadBalancer") {
  return objectOf(`
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  type: ${type}
  selector: { app: ${name} }
  ports: [{ port: 443 }]
`);
}

describe("internal-load-balancer", () => {
  it("keeps a load balancer internal only for the exact string true", () => {
    const set = onlyPolicies(["internal-load-balancer"]);
    const lb = (value?: string) => {
      const object = service("apps", "web");
      if (value !== undefined) {
        object.metadata = {
          ...object.metadata,
          annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": value },
        };
      }
      return object;
    };
    expect(run(set, lb("true")).violations).toEqual([]);
    expect(run(set, lb("True")).violations).toHaveLength(1);
    expect(run(set, lb()).violations).toHaveLength(1);
  });

  it("denies a public load balancer in enforce mode", () => {
    const verdict = run(onlyPolicies(["internal-load-balancer"]), service("apps", "web"));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]?.message).toContain('"apps/web" to allowPublic');
  });

  it("admits the Services allowPublic names, by namespace/name glob", () => {
    const set = onlyPolicies(["internal-load-balancer"], {
      allowPublic: ["ingress-nginx/ingress-nginx-controller", "edge/*", "*/public-*"],
    });
    expect(run(set, service("ingress-nginx", "ingress-nginx-controller")).violations).toEqual([]);
    expect(run(set, service("edge", "anything")).violations).toEqual([]);
    expect(run(set, service("apps", "public-api")).violations).toEqual([]);
    expect(run(set, service("apps", "ingress-nginx-controller")).violations).toHaveLength(1);
    expect(run(set, service("edge-2", "anything")).violations).toHaveLength(1);
    expect(run(set, service("apps", "api-public")).violations).toHaveLength(1);
  });

  it("denies turning an existing ClusterIP Service into a public load balancer", () => {
    const verdict = run(onlyPolicies(["internal-load-balancer"]), service("apps", "web"), {
      operation: "UPDATE",
      oldObject: service("apps", "web", "ClusterIP"),
    });
    expect(verdict.allowed).toBe(false);
  });

  it("rejects an allowPublic entry without a namespace, naming the field", () => {
    const file = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      policies: { "internal-load-balancer": { parameters: { allowPublic: ["web"] } } },
    };
    expect(() => resolvePolicySet(shippedPolicies(), file, "set.yaml")).toThrow(
      "policies.internal-load-balancer.parameters.allowPublic[0]",
    );
  });
});
