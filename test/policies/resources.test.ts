import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const bare = objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: apps }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      initContainers:
        - name: migrate
          image: mcr.microsoft.com/app/migrate:1.0
      containers:
        - name: web
          image: mcr.microsoft.com/app/web:1.0
`);

const complete = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      resources:
        requests: { cpu: 100m, memory: 128Mi }
        limits: { memory: 256Mi }
`);

describe("resources", () => {
  it("denies one finding per missing field, init containers included", () => {
    const verdict = run(onlyPolicies(["resources"]), bare);
    expect(verdict.allowed).toBe(false);
    const prefix = "spec.template.spec";
    expect(verdict.violations.map((v) => v.path)).toEqual([
      `${prefix}.initContainers[0].resources.requests.cpu`,
      `${prefix}.initContainers[0].resources.requests.memory`,
      `${prefix}.initContainers[0].resources.limits.memory`,
      `${prefix}.containers[0].resources.requests.cpu`,
      `${prefix}.containers[0].resources.requests.memory`,
      `${prefix}.containers[0].resources.limits.memory`,
    ]);
    expect(verdict.violations.every((v) => v.action === "deny")).toBe(true);
    expect(verdict.violations[2]?.message).toMatch(
      /^Deployment "web" container "migrate": has no memory limit; set resources.limits.memory/,
    );
  });

  it("does not ask for a CPU limit by default", () => {
    expect(run(onlyPolicies(["resources"]), complete).violations).toEqual([]);
  });

  it("asks for a CPU limit when requireCpuLimit is true", () => {
    const verdict = run(onlyPolicies(["resources"], { requireCpuLimit: true }), complete);
    expect(verdict.violations.map((v) => v.path)).toEqual([
      "spec.containers[0].resources.limits.cpu",
    ]);
    expect(verdict.violations[0]?.message).toContain("has no cpu limit");
  });

  it("accepts numeric quantities and treats empty strings as missing", () => {
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      resources:
        requests: { cpu: 0.5, memory: "" }
        limits: { memory: 268435456 }
`);
    // The memory request is blank but the limit stands in for it.
    expect(run(onlyPolicies(["resources"]), object).violations).toEqual([]);
    const noLimit = structuredClone(object) as { spec: { containers: { resources: object }[] } };
    const [container] = noLimit.spec.containers;
    if (container) container.resources = { requests: { cpu: 0.5, memory: "" } };
    expect(run(onlyPolicies(["resources"]), noLimit).violations.map((v) => v.path)).toEqual([
      "spec.containers[0].resources.requests.memory",
      "spec.containers[0].resources.limits.memory",
    ]);
  });

  it("skips ephemeral containers, which cannot set resources", () => {
    const object = structuredClone(complete) as { spec: Record<string, unknown> };
    object.spec.ephemeralContainers = [{ name: "shell", image: "mcr.microsoft.com/debug:1.0" }];
    expect(run(onlyPolicies(["resources"]), object).violations).toEqual([]);
  });

  it("lets the resource-defaults mutation fill the gaps when both run", () => {
    const verdict = run(onlyPolicies(["resource-defaults", "resources"]), bare);
    expect(verdict.mutatedBy).toEqual(["resource-defaults"]);
    expect(verdict.violations).toEqual([]);
    expect(verdict.allowed).toBe(true);
  });
});
