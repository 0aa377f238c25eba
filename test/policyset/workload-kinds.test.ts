// workloadKinds: kinds beyond the built-in workloads whose pod template the
// pod policies judge, with Argo Rollouts shipped by default.
import { describe, expect, it } from "vitest";
import type { KubeObject, PolicyResult } from "../../src/engine/index.js";
import { PolicyLoadError, resolvePolicySet } from "../../src/policyset/index.js";
import { tollgate, workspace } from "../cli/support.js";
import { objectOf, run, shippedPolicies } from "../support/policies.js";

const FILE = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };

function rollout(apiVersion = "argoproj.io/v1alpha1", kind = "Rollout"): KubeObject {
  return objectOf(`apiVersion: ${apiVersion}
kind: ${kind}
metadata: {name: canary, namespace: shop}
spec:
  replicas: 2
  strategy: {canary: {steps: [{setWeight: 20}]}}
  template:
    metadata: {labels: {app: canary}}
    spec:
      containers:
        - name: web
          image: docker.io/library/nginx:1.27
          securityContext: {privileged: true}
`);
}

function resultOf(results: readonly PolicyResult[], id: string): PolicyResult | undefined {
  return results.find((r) => r.policy === id);
}

describe("workloadKinds", () => {
  const defaults = resolvePolicySet(shippedPolicies(), FILE, "test").set;

  it("denies a privileged Rollout from docker.io with the shipped defaults", () => {
    const verdict = run(defaults, rollout());
    expect(verdict.allowed).toBe(false);
    expect(resultOf(verdict.results, "privileged")?.status).toBe("fail");
    const registry = resultOf(verdict.results, "trusted-registry");
    expect(registry?.status).toBe("fail");
    expect(registry?.findings[0]?.path).toBe("spec.template.spec.containers[0].image");
    // The mutations patch the Rollout's template as they patch a Deployment's.
    expect(verdict.patch.map((op) => op.path)).toContain(
      "/spec/template/spec/automountServiceAccountToken",
    );
  });

  it("matches group and version, not the kind alone", () => {
    for (const other of [rollout("example.com/v1"), rollout("argoproj.io/v2")]) {
      const verdict = run(defaults, other);
      expect(verdict.allowed).toBe(true);
      expect(resultOf(verdict.results, "privileged")).toMatchObject({
        status: "skip",
        reason: "no-pod-spec",
      });
    }
  });

  it("takes kinds and template paths from the PolicySet, which replaces the defaults", () => {
    const file = {
      ...FILE,
      workloadKinds: [
        {
          group: "apps.example.com",
          kind: "Worker",
          resource: "workers",
          podTemplate: "spec.pod.template",
        },
      ],
    };
    const set = resolvePolicySet(shippedPolicies(), file, "test").set;
    const worker = objectOf(`apiVersion: apps.example.com/v3
kind: Worker
metadata: {name: w, namespace: shop}
spec:
  pod:
    template:
      spec:
        containers: [{name: c, image: mcr.microsoft.com/w:1, securityContext: {privileged: true}}]
`);
    const verdict = run(set, worker);
    expect(resultOf(verdict.results, "privileged")?.findings[0]?.path).toBe(
      "spec.pod.template.spec.containers[0].securityContext.privileged",
    );
    // No versions listed: any version. Rollouts are no longer configured.
    expect(resultOf(run(set, rollout()).results, "privileged")?.status).toBe("skip");
  });

  it("on UPDATE patches a Rollout only when its template changed", () => {
    const old = rollout();
    const scaled = structuredClone(old);
    (scaled.spec as { replicas: number }).replicas = 5;
    expect(run(defaults, scaled, { operation: "UPDATE", oldObject: old }).patch).toEqual([]);
    const changed = structuredClone(old);
    (changed.spec as { template: { metadata: object } }).template.metadata = { labels: {} };
    expect(
      run(defaults, changed, { operation: "UPDATE", oldObject: old }).patch.length,
    ).toBeGreaterThan(0);
  });

  it("refuses entries that are wrong, naming the field", () => {
    const bad = (entry: Record<string, unknown>) => () =>
      resolvePolicySet(
        shippedPolicies(),
        {
          ...FILE,
          workloadKinds: [
            {
              group: "argoproj.io",
              kind: "Rollout",
              resource: "rollouts",
              podTemplate: "spec.template",
              ...entry,
            },
          ],
        },
        "set.yaml",
      );
    expect(bad({ kind: "Deployment" })).toThrow(PolicyLoadError);
    expect(bad({ kind: "Deployment" })).toThrow(
      /workloadKinds\[0\]\.kind: is a built-in workload kind/,
    );
    expect(bad({ podTemplate: "spec..template" })).toThrow(
      /workloadKinds\[0\]\.podTemplate: must be the dotted path/,
    );
    expect(bad({ resource: "Rollouts" })).toThrow(
      /workloadKinds\[0\]\.resource: must be the plural/,
    );
    expect(bad({ extra: 1 })).toThrow(/extra/);
  });

  it("tollgate test denies the Rollout and exits 1", async () => {
    const dir = workspace({ "rollout.yaml": `${JSON.stringify(rollout())}\n` });
    const result = await tollgate(["test", `${dir}/rollout.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/DENIED\s+Rollout shop\/canary/);
    expect(result.stdout).toContain("privileged");
    expect(result.stdout).toContain("from docker.io, which is not a trusted registry");
  });

  it("tollgate test keeps judging the Rollout's template with --policy or --skip", async () => {
    const file = `${workspace({ "rollout.yaml": `${JSON.stringify(rollout())}\n` })}/rollout.yaml`;
    for (const flags of [
      ["--policy", "privileged"],
      ["--skip", "probes"],
    ]) {
      const result = await tollgate(["test", ...flags, file]);
      expect(result.code, flags.join(" ")).toBe(1);
      expect(result.stdout).toContain("runs privileged");
    }
    // A mutation named by --policy patches the template too.
    const fix = await tollgate(["test", "-o", "json", "--policy", "resource-defaults", file]);
    const [entry] = JSON.parse(fix.stdout).results as { patch: { path: string }[] }[];
    expect(entry?.patch.map((op) => op.path)).toEqual([
      "/spec/template/spec/containers/0/resources",
    ]);
  });
});
