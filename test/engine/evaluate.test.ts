import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  compilePolicySet,
  definePolicy,
  evaluate,
  inputFromObject,
  type KubeObject,
  type PolicySet,
} from "../../src/engine/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const privilegedPod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps }
spec:
  automountServiceAccountToken: false
  containers:
    - { name: app, image: mcr.microsoft.com/app:1.0, securityContext: { privileged: true } }
`);

const plainPod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: q, namespace: apps }
spec:
  containers:
    - { name: app, image: mcr.microsoft.com/app:1.0 }
`);

function withAction(action: "deny" | "warn" | "audit"): PolicySet {
  const entries = shippedPolicies()
    .filter(
      (p) => p.declaration.id === "privileged" || p.declaration.id === "service-account-token",
    )
    .map((p) => ({ ...p, declaration: { ...p.declaration, action, enabled: true } }));
  return compilePolicySet(entries, ["kube-system"]);
}

describe("evaluate", () => {
  const set = onlyPolicies(["privileged", "service-account-token"]);

  it("denies in enforce mode and names the policy, checklist item and field", () => {
    const verdict = run(set, privilegedPod);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations).toHaveLength(1);
    const [v] = verdict.violations;
    expect(v).toMatchObject({
      policy: "privileged",
      action: "deny",
      severity: "critical",
      path: "spec.containers[0].securityContext.privileged",
      container: "app",
      resource: { kind: "Pod", name: "p", namespace: "apps" },
    });
    expect(v?.checklist.section).toBe("Windows");
    expect(v?.message).toMatch(/^Pod "p" container "app": /);
    expect(verdict.auditAnnotations.privileged).toContain('Pod "p"');
  });

  it("admits in warn mode and turns violations into warnings", () => {
    const verdict = run(set, privilegedPod, { mode: "warn" });
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([expect.stringMatching(/^privileged: Pod "p"/)]);
  });

  it("admits in audit mode with annotations but no warnings", () => {
    const verdict = run(set, privilegedPod, { mode: "audit" });
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([]);
    expect(Object.keys(verdict.auditAnnotations)).toEqual(["privileged"]);
  });

  it("only mutates in enforce mode", () => {
    expect(run(set, plainPod).patch).not.toEqual([]);
    expect(run(set, plainPod, { mode: "warn" }).patch).toEqual([]);
    expect(run(set, plainPod, { mode: "audit" }).patch).toEqual([]);
  });

  it("honours each policy's action in enforce mode", () => {
    expect(run(withAction("warn"), privilegedPod)).toMatchObject({ allowed: true });
    expect(run(withAction("warn"), privilegedPod).warnings).toHaveLength(1);
    const audited = run(withAction("audit"), privilegedPod);
    expect(audited).toMatchObject({ allowed: true, warnings: [] });
    expect(audited.violations).toHaveLength(1);
  });

  it("never blocks DELETE or CONNECT", () => {
    for (const operation of ["DELETE", "CONNECT"] as const) {
      const input = { ...inputFromObject(privilegedPod), operation };
      expect(evaluate(input, set, { mode: "enforce", phase: "both" })).toMatchObject({
        allowed: true,
        violations: [],
      });
    }
  });

  it("skips exempt namespaces entirely", () => {
    const inSystem = { ...privilegedPod, metadata: { name: "p", namespace: "kube-system" } };
    expect(run(set, inSystem)).toMatchObject({ allowed: true, evaluated: [] });
  });

  it("uses the request namespace when the object has none", () => {
    const bare = structuredClone(privilegedPod);
    delete bare.metadata?.namespace;
    const input = inputFromObject(bare, { namespace: "kube-system" });
    expect(evaluate(input, set, { mode: "enforce", phase: "both" }).allowed).toBe(true);
  });

  it("does not touch the caller's object and returns a patch valid against it", () => {
    const before = structuredClone(plainPod);
    const verdict = run(set, plainPod);
    expect(plainPod).toEqual(before);
    const patched = jsonpatch.applyPatch(structuredClone(plainPod), verdict.patch, true, false);
    expect((patched.newDocument as KubeObject).spec).toMatchObject({
      automountServiceAccountToken: false,
    });
    expect(verdict.mutatedBy).toEqual(["service-account-token"]);
  });

  it("keeps each operation's value as emitted when later operations nest into it", () => {
    const all = onlyPolicies(["security-defaults", "service-account-token"]);
    const { patch } = run(all, plainPod, { phase: "mutate" });
    const podContext = patch.find((op) => op.path === "/spec/securityContext");
    expect(podContext).toBeDefined();
    const later = patch.filter((op) => op.path.startsWith("/spec/securityContext/"));
    for (const op of later) {
      const key = op.path.split("/").pop() as string;
      expect(Object.keys((podContext as { value: object }).value)).not.toContain(key);
    }
  });

  it("validates the mutated object in phase both, and the original in phase validate", () => {
    expect(run(set, plainPod, { phase: "validate" }).patch).toEqual([]);
    expect(run(set, plainPod, { phase: "mutate" }).violations).toEqual([]);
  });

  it("does not mutate Pods on UPDATE, whose spec is immutable", () => {
    expect(run(set, plainPod, { operation: "UPDATE", oldObject: plainPod }).patch).toEqual([]);
  });

  it("denies an UPDATE that introduces a violation", () => {
    const old = structuredClone(privilegedPod);
    const container = (old.spec as { containers: { securityContext: object }[] }).containers[0];
    if (container) container.securityContext = {};
    const verdict = run(set, privilegedPod, { operation: "UPDATE", oldObject: old });
    expect(verdict.allowed).toBe(false);
  });

  it("lets an UPDATE through when the violation predates it, with a warning", () => {
    const verdict = run(set, privilegedPod, { operation: "UPDATE", oldObject: privilegedPod });
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]).toMatchObject({ action: "warn" });
    expect(verdict.violations[0]?.message).toContain("already present");
    expect(verdict.warnings).toHaveLength(1);
  });

  it("applies policies to every workload kind's pod template", () => {
    const cronJob = objectOf(`
apiVersion: batch/v1
kind: CronJob
metadata: { name: c, namespace: apps }
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - { name: job, image: x, securityContext: { privileged: true } }
`);
    const verdict = run(set, cronJob);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]?.path).toBe(
      "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
    );
    expect(verdict.patch[0]).toMatchObject({
      op: "add",
      path: "/spec/jobTemplate/spec/template/spec/automountServiceAccountToken",
    });
  });

  it("ignores kinds no policy matches", () => {
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "apps" },
    };
    expect(run(set, configMap)).toMatchObject({ allowed: true, evaluated: [] });
  });

  it("survives objects of the wrong shape", () => {
    const odd = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "odd", namespace: "apps" },
      spec: { containers: "not-a-list", initContainers: [null, 3, { name: "ok" }] },
    } as unknown as KubeObject;
    expect(() => run(set, odd)).not.toThrow();
  });
});

describe("prepared parameters", () => {
  it("are made once per compiled set and handed to the hook on every evaluation", () => {
    const prepared: string[][] = [];
    const seen: unknown[] = [];
    const module = definePolicy({
      id: "banned-names",
      scope: "pod",
      parameters: z.object({ names: z.array(z.string()) }),
      prepare: (params) => {
        prepared.push(params.names);
        return new Set(params.names);
      },
      validate(pod, banned) {
        seen.push(banned);
        return pod.containers
          .filter((c) => banned.has(c.name))
          .map((c) => ({ message: "banned name", path: [...c.path, "name"], container: c }));
      },
    });
    const [privileged] = shippedPolicies().filter((p) => p.declaration.id === "privileged");
    if (!privileged) throw new Error("no privileged policy");
    const declaration = {
      ...privileged.declaration,
      id: "banned-names",
      parameters: { names: ["app"] },
    };
    const set = compilePolicySet([{ declaration, module }], []);
    expect(prepared).toEqual([["app"]]);
    const verdicts = [run(set, privilegedPod), run(set, plainPod), run(set, privilegedPod)];
    expect(verdicts.map((v) => v.violations.map((f) => f.policy))).toEqual([
      ["banned-names"],
      ["banned-names"],
      ["banned-names"],
    ]);
    expect(prepared).toHaveLength(1);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toEqual(new Set(["app"]));
  });
});
