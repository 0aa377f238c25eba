import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: shop }
spec:
  initContainers:
    - name: setup
      image: mcr.microsoft.com/setup:1.0
    - name: proxy
      image: mcr.microsoft.com/proxy:1.0
      restartPolicy: Always
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
  ephemeralContainers:
    - name: shell
      image: mcr.microsoft.com/debug:1.0
`);

describe("probes", () => {
  it("checks regular containers only and warns", () => {
    const verdict = run(onlyPolicies(["probes"]), pod);
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations.map((v) => [v.container, v.path, v.action])).toEqual([
      ["app", "spec.containers[0].livenessProbe", "warn"],
      ["app", "spec.containers[0].readinessProbe", "warn"],
    ]);
  });

  it("reports each missing probe against its own checklist item", () => {
    const verdict = run(onlyPolicies(["probes"]), pod);
    expect(verdict.violations.map((v) => [v.path, v.checklist])).toEqual([
      [
        "spec.containers[0].livenessProbe",
        { section: "Development", item: "Implement a proper Liveness probe" },
      ],
      [
        "spec.containers[0].readinessProbe",
        { section: "Development", item: "Implement a proper Readiness probe" },
      ],
    ]);
  });

  it("can drop either requirement", () => {
    const liveOnly = onlyPolicies(["probes"], { readiness: false });
    expect(run(liveOnly, pod).violations.map((v) => v.path)).toEqual([
      "spec.containers[0].livenessProbe",
    ]);
    const readyOnly = onlyPolicies(["probes"], { liveness: false });
    expect(run(readyOnly, pod).violations.map((v) => v.path)).toEqual([
      "spec.containers[0].readinessProbe",
    ]);
  });

  it("skips Pods run by a Job", () => {
    const jobPod = structuredClone(pod);
    jobPod.metadata = {
      ...jobPod.metadata,
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "once", controller: true }],
    };
    expect(run(onlyPolicies(["probes"]), jobPod).violations).toEqual([]);
  });
});
