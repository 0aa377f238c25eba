import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { PolicyLoadError, resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

function podWith(resources: string): KubeObject {
  return objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      resources: ${resources}
`);
}

function mutate(object: KubeObject, parameters: Record<string, unknown> = {}): unknown {
  const { patch } = run(onlyPolicies(["resource-defaults"], parameters), object, {
    phase: "mutate",
  });
  const result = jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
  return (result as { spec: { containers: { resources: unknown }[] } }).spec.containers[0]
    ?.resources;
}

describe("resource-defaults", () => {
  it("ships disabled so that missing limits are denied rather than filled in", () => {
    const shipped = shippedPolicies().find((p) => p.declaration.id === "resource-defaults");
    expect(shipped?.declaration.enabled).toBe(false);
  });

  it("never changes values the user set", () => {
    expect(
      mutate(podWith("{ requests: { cpu: 3, memory: 64Mi }, limits: { memory: 64Mi } }")),
    ).toEqual({ requests: { cpu: 3, memory: "64Mi" }, limits: { memory: "64Mi" } });
  });

  it("uses a memory request above the default limit as the limit", () => {
    expect(mutate(podWith("{ requests: { memory: 2Gi } }"))).toEqual({
      requests: { cpu: "100m", memory: "2Gi" },
      limits: { memory: "2Gi" },
    });
    // A smaller request keeps the default limit.
    expect(mutate(podWith("{ requests: { memory: 64Mi } }"))).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { memory: "256Mi" },
    });
  });

  it("compares quantities across units", () => {
    // 300M (decimal) is more than 256Mi (binary), so the request becomes the limit.
    expect(mutate(podWith("{ requests: { memory: 300M } }"))).toMatchObject({
      limits: { memory: "300M" },
    });
    expect(mutate(podWith("{ requests: { memory: 268435456 } }"))).toMatchObject({
      limits: { memory: "256Mi" },
    });
  });

  it("adds no limit when the request cannot be read", () => {
    expect(mutate(podWith("{ requests: { cpu: 1, memory: lots } }"))).toEqual({
      requests: { cpu: 1, memory: "lots" },
    });
  });

  it("adds a CPU limit only when cpuLimit is given, never below the request", () => {
    const parameters = { cpuLimit: "500m" };
    expect(mutate(podWith("{}"), parameters)).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(mutate(podWith("{ requests: { cpu: 2 } }"), parameters)).toMatchObject({
      limits: { cpu: 2 },
    });
    // A CPU limit the user set keeps its request implied.
    expect(mutate(podWith("{ limits: { cpu: 50m } }"), parameters)).toEqual({
      requests: { memory: "128Mi" },
      limits: { cpu: "50m", memory: "256Mi" },
    });
  });

  it("uses the configured values", () => {
    const parameters = { cpuRequest: "250m", memoryRequest: "1Gi", memoryLimit: "1Gi" };
    expect(mutate(podWith("{}"), parameters)).toEqual({
      requests: { cpu: "250m", memory: "1Gi" },
      limits: { memory: "1Gi" },
    });
  });

  it("fills every container without touching ephemeral ones", () => {
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  initContainers: [{ name: init, image: mcr.microsoft.com/init:1 }]
  containers: [{ name: a, image: mcr.microsoft.com/a:1 }, { name: b, image: mcr.microsoft.com/b:1 }]
  ephemeralContainers: [{ name: shell, image: mcr.microsoft.com/debug:1 }]
`);
    const { patch } = run(onlyPolicies(["resource-defaults"]), object, { phase: "mutate" });
    expect(patch.map((op) => op.path)).toEqual([
      "/spec/initContainers/0/resources",
      "/spec/containers/0/resources",
      "/spec/containers/1/resources",
    ]);
  });

  it("does not patch Pods on UPDATE, whose spec is immutable", () => {
    const object = podWith("{}");
    const verdict = run(onlyPolicies(["resource-defaults"]), object, {
      phase: "mutate",
      operation: "UPDATE",
      oldObject: object,
    });
    expect(verdict.patch).toEqual([]);
  });

  describe("parameters", () => {
    const header = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };
    function load(parameters: Record<string, unknown>) {
      return () =>
        resolvePolicySet(
          shippedPolicies(),
          { ...header, policies: { "resource-defaults": { parameters } } },
          "set.yaml",
        );
    }

    it("accepts quantities", () => {
      expect(load({ cpuRequest: "0.25", memoryLimit: "1Gi", cpuLimit: "2" })).not.toThrow();
    });

    it.each([
      [{ cpuRequest: "a lot" }, "cpuRequest"],
      [{ memoryRequest: "0" }, "memoryRequest"],
      [{ memoryRequest: "512Mi", memoryLimit: "256Mi" }, "memoryLimit"],
      [{ cpuRequest: "1", cpuLimit: "500m" }, "cpuLimit"],
      [{ extra: "1" }, ""],
    ])("rejects %j", (parameters, field) => {
      expect(load(parameters)).toThrow(PolicyLoadError);
      expect(load(parameters)).toThrow(
        `policies.resource-defaults.parameters${field ? `.${field}` : ""}`,
      );
    });
  });
});
