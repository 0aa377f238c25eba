// When the engine must not patch, and what warn and audit report: each case
// here is a way a mutating webhook is known to break clusters.
import { describe, expect, it } from "vitest";
import { compilePolicySet, type KubeObject } from "../../src/engine/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const mutations = onlyPolicies(["security-defaults", "service-account-token"]);

function deployment(image = "mcr.microsoft.com/app:1.0", labels: Record<string, string> = {}) {
  return objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: apps, labels: ${JSON.stringify(labels)} }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: app, image: "${image}" }
`);
}

describe("when the engine does not patch", () => {
  it("patches a Deployment on CREATE", () => {
    expect(run(mutations, deployment()).patch.length).toBeGreaterThan(0);
  });

  it("does not patch an UPDATE that leaves the pod template alone, so no rollout is triggered", () => {
    const old = deployment();
    const relabelled = deployment(undefined, { team: "a" });
    expect(run(mutations, relabelled, { operation: "UPDATE", oldObject: old }).patch).toEqual([]);
  });

  it("patches an UPDATE that changes the pod template", () => {
    const old = deployment();
    const changed = deployment("mcr.microsoft.com/app:2.0");
    expect(
      run(mutations, changed, { operation: "UPDATE", oldObject: old }).patch.length,
    ).toBeGreaterThan(0);
  });

  it("never patches a Job on UPDATE: its template is immutable", () => {
    const job = objectOf(`
apiVersion: batch/v1
kind: Job
metadata: { name: j, namespace: apps, labels: { a: b } }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: j, image: mcr.microsoft.com/j:1 }]
`);
    const old = { ...job, metadata: { name: "j", namespace: "apps" } };
    expect(run(mutations, job).patch.length).toBeGreaterThan(0);
    expect(run(mutations, job, { operation: "UPDATE", oldObject: old }).patch).toEqual([]);
  });

  it("never patches a ReplicaSet its Deployment controls, which would start a ReplicaSet loop", () => {
    const replicaSet = {
      ...deployment(),
      kind: "ReplicaSet",
      metadata: {
        name: "web-5d8f",
        namespace: "apps",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "web", controller: true },
        ],
      },
    } as KubeObject;
    expect(run(mutations, replicaSet).patch).toEqual([]);
    const standalone = { ...replicaSet, metadata: { name: "rs", namespace: "apps" } };
    expect(run(mutations, standalone).patch.length).toBeGreaterThan(0);
  });

  it("leaves an object that is being deleted alone", () => {
    const deleting = deployment();
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: "2026-11-22T10:00:00Z" };
    expect(run(mutations, deleting).patch).toEqual([]);
  });

  it("skips a mutation entirely for a pod where its policy exempts any container's image", () => {
    const entries = shippedPolicies()
      .filter((p) => p.declaration.id === "security-defaults")
      .map((p) => ({
        ...p,
        declaration: {
          ...p.declaration,
          exemptions: { ...p.declaration.exemptions, images: ["mcr.microsoft.com/oss/calico/**"] },
        },
      }));
    const set = compilePolicySet(entries, []);
    const pod = (images: string[]) =>
      ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "apps" },
        spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
      }) as KubeObject;
    // Pod-level runAsNonRoot would reach the exempt container too.
    expect(
      run(set, pod(["mcr.microsoft.com/oss/calico/node:3.28", "mcr.microsoft.com/app:1.0"])).patch,
    ).toEqual([]);
    expect(run(set, pod(["mcr.microsoft.com/app:1.0"])).patch.length).toBeGreaterThan(0);
  });

  it("survives names and namespaces that are not strings", () => {
    // Found by npm run fuzz: an object with a toString key threw in a string template.
    for (const odd of [{ toString: "x" }, 1, ["a"], null]) {
      const object = {
        ...deployment(),
        metadata: { name: odd, namespace: odd, generateName: odd },
      };
      const verdict = run(mutations, object as unknown as KubeObject);
      expect(verdict.violations.every((v) => v.message.includes('"<unnamed>"'))).toBe(true);
    }
  });

  it("names capabilities, sysctls and AppArmor values that are not strings", () => {
    // Found by npm run fuzz (seed 20261205): String() on such an object threw, and the webhook answered 500.
    const odd = { toString: "x" };
    const set = onlyPolicies(["capabilities", "capabilities-minimal", "sysctls", "apparmor"]);
    const object = deployment();
    type Spec = Record<string, unknown> & { containers: Record<string, unknown>[] };
    const template = (
      object.spec as { template: { metadata: Record<string, unknown>; spec: Spec } }
    ).template;
    template.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/app": odd };
    template.spec.securityContext = { sysctls: [{ name: odd, value: "1" }] };
    (template.spec.containers[0] as Record<string, unknown>).securityContext = {
      capabilities: { add: [odd] },
    };
    const verdict = run(set, object);
    const failed = new Set(verdict.violations.map((v) => v.policy));
    expect([...failed].sort()).toEqual([
      "apparmor",
      "capabilities",
      "capabilities-minimal",
      "sysctls",
    ]);
    expect(verdict.violations.some((v) => v.message.includes("a mapping"))).toBe(true);
  });

  it("survives ownerReferences of the wrong shape", () => {
    for (const odd of [{}, "x", 1, true]) {
      const object = {
        ...deployment(),
        metadata: { name: "w", namespace: "apps", ownerReferences: odd },
      };
      expect(() => run(mutations, object as unknown as KubeObject)).not.toThrow();
    }
  });
});

describe("pre-existing violations on UPDATE", () => {
  const registry = onlyPolicies(["trusted-registry"]);

  it("stay allowed when unchanged", () => {
    const old = deployment("docker.io/team/app:1.0", { a: "1" });
    const relabelled = deployment("docker.io/team/app:1.0", { a: "2" });
    expect(run(registry, relabelled, { operation: "UPDATE", oldObject: old }).allowed).toBe(true);
  });

  it("are denied when the offending value changes", () => {
    const old = deployment("docker.io/team/app:1.0");
    const swapped = deployment("docker.io/attacker/miner:1.0");
    const verdict = run(registry, swapped, { operation: "UPDATE", oldObject: old });
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]?.message).not.toContain("already present");
  });
});

describe("warn and audit predict enforce", () => {
  const full = onlyPolicies([
    "security-defaults",
    "privilege-escalation",
    "capabilities-minimal",
    "trusted-registry",
    "image-tag",
  ]);

  it("judge the object as enforce would after its patches, without patching it", () => {
    const verdict = run(full, deployment("docker.io/team/app:latest"), { mode: "warn" });
    expect(verdict.patch).toEqual([]);
    const policies = verdict.violations.map((v) => v.policy);
    expect(policies).not.toContain("privilege-escalation");
    expect(policies).not.toContain("capabilities-minimal");
    expect(policies).toContain("trusted-registry");
  });

  it("do so on the webhook's validate-only path too, where no mutating webhook ran", () => {
    const object = deployment("docker.io/team/app:latest");
    const warn = run(full, object, { mode: "warn", phase: "validate" });
    const enforce = run(full, object, { mode: "enforce", phase: "both" });
    expect(warn.violations.map((v) => v.policy)).toEqual(enforce.violations.map((v) => v.policy));
    expect(warn.patch).toEqual([]);
  });

  it("list what enforce would deny first", () => {
    const verdict = run(full, deployment("docker.io/team/app:latest"), { mode: "warn" });
    expect(verdict.warnings[0]).toMatch(/^trusted-registry: /);
    expect(verdict.warnings.some((w) => w.startsWith("image-tag: "))).toBe(true);
  });
});

describe("bounded work on hostile objects", () => {
  it("keeps at most 50 violations per policy and says how many it left out", () => {
    const containers = Array.from({ length: 400 }, (_, i) => ({
      name: `c${i}`,
      image: "mcr.microsoft.com/app:1.0",
      securityContext: { privileged: true },
    }));
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "wide", namespace: "apps" },
      spec: { containers },
    } as KubeObject;
    const verdict = run(onlyPolicies(["privileged"]), pod);
    expect(verdict.violations).toHaveLength(51);
    expect(verdict.violations[50]?.message).toContain("and 350 more findings");
    expect(verdict.allowed).toBe(false);
  });
});
