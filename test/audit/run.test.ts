import { describe, expect, it } from "vitest";
import { AuditError } from "../../src/audit/errors.js";
import { planListing } from "../../src/audit/kinds.js";
import { exitCodeOf, runAudit } from "../../src/audit/run.js";
import { CLUSTER_BUCKET } from "../../src/audit/tally.js";
import type { AuditFinding } from "../../src/audit/types.js";
import type { KubeObject } from "../../src/engine/index.js";
import { CHECKS } from "../support/checks.js";
import {
  deployment,
  FakeSource,
  limitRange,
  namespace,
  networkPolicy,
  pdb,
  pod,
  policiesOf,
  quota,
  replicaSet,
  service,
  tidyNamespace,
} from "./fakes.js";

const POLICIES = [
  "dashboard",
  "default-namespace",
  "internal-load-balancer",
  "privileged",
  "service-account-token",
];

async function audit(
  objects: KubeObject[],
  options: { namespaces?: string[]; pageSize?: number; policies?: string[] } = {},
) {
  const source = new FakeSource(objects);
  const findings: AuditFinding[] = [];
  const result = await runAudit(source, {
    policies: policiesOf(options.policies ?? POLICIES),
    namespaces: options.namespaces,
    pageSize: options.pageSize ?? 2,
    onFinding: (f) => {
      findings.push(f);
    },
  });
  return { result, findings, source };
}

const byPolicy = (findings: AuditFinding[], id: string) => findings.filter((f) => f.policy === id);

describe("runAudit", () => {
  it("evaluates each object like an admission CREATE and reports deny and patch", async () => {
    const { result, findings } = await audit([
      ...tidyNamespace("team-a"),
      deployment("team-a", "bad", { privileged: true, automount: false }),
      deployment("team-a", "good", { automount: false }),
      deployment("team-a", "mutable"),
    ]);
    const denied = byPolicy(findings, "privileged");
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      action: "deny",
      result: "fail",
      severity: "critical",
      checklist: { section: "Windows", item: "Don't use privileged containers" },
      resource: { apiVersion: "apps/v1", kind: "Deployment", namespace: "team-a", name: "bad" },
      path: "spec.template.spec.containers[0].securityContext.privileged",
      container: "app",
    });
    const patched = byPolicy(findings, "service-account-token");
    expect(patched.map((f) => f.resource?.name)).toEqual(["mutable"]);
    expect(patched[0]?.patch).toEqual([
      { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
    ]);
    expect(patched[0]?.message).toContain(
      "add spec.template.spec.automountServiceAccountToken = false",
    );
    expect(result.tally.deniedObjects).toBe(1);
    expect(exitCodeOf(result)).toBe(1);
  });

  it("exits 0 when nothing would be denied, and with --strict only if checks pass", async () => {
    const { result } = await audit([
      namespace("bare"),
      deployment("bare", "ok", { automount: false }),
    ]);
    expect(result.tally.totals.deny).toBe(0);
    expect(exitCodeOf(result)).toBe(0);
    expect(exitCodeOf(result, true)).toBe(1); // no quota, no limit range, no default deny
    const tidy = await audit([...tidyNamespace("t"), deployment("t", "ok", { automount: false })]);
    expect(exitCodeOf(tidy.result, true)).toBe(0);
  });

  it("reports a controller once and counts the children it covers", async () => {
    const { result, findings } = await audit([
      ...tidyNamespace("team-a"),
      deployment("team-a", "web", { privileged: true }),
      replicaSet("team-a", "web-1", "web", { privileged: true }),
      pod("team-a", "web-1-a", { ownedBy: "web-1", privileged: true }),
      pod("team-a", "web-1-b", { ownedBy: "web-1", privileged: true }),
      pod("team-a", "naked", { privileged: true }),
    ]);
    expect(
      byPolicy(findings, "privileged").map((f) => `${f.resource?.kind}/${f.resource?.name}`),
    ).toEqual(["Deployment/web", "Pod/naked"]);
    expect(result.tally.kinds.get("ReplicaSet")).toMatchObject({ listed: 1, coveredByOwner: 1 });
    expect(result.tally.kinds.get("Pod")).toMatchObject({
      listed: 3,
      evaluated: 1,
      coveredByOwner: 2,
    });
  });

  it("evaluates children when the owner's kind is not audited", async () => {
    const objects = [...tidyNamespace("a"), pod("a", "p", { ownedBy: "rs", privileged: true })];
    // With ReplicaSets audited, the pod is covered by its owner's findings...
    const covered = await runAudit(new FakeSource(objects), {
      policies: policiesOf(["privileged"]),
    });
    expect(covered.tally.totals.deny).toBe(0);
    expect(covered.tally.kinds.get("Pod")?.coveredByOwner).toBe(1);
    // ...but when only Pods are audited, nobody else would report it.
    const podsOnly = await runAudit(new FakeSource(objects), {
      policies: policiesOf(["privileged"], { privileged: ["Pod"] }),
    });
    expect(podsOnly.tally.totals.deny).toBe(1);
    expect(podsOnly.tally.kinds.get("Pod")?.evaluated).toBe(1);
  });

  it("skips exempt namespaces for every policy and for the namespace checks", async () => {
    const { result, findings } = await audit(
      [
        namespace("kube-system"),
        deployment("kube-system", "kubernetes-dashboard", { privileged: true }),
        service("kube-system", "public", { type: "LoadBalancer" }),
        ...tidyNamespace("team-a"),
      ],
      { policies: [...POLICIES, "kubernetes-dashboard"] },
    );
    expect(result.exemptNamespaces).toEqual(["kube-system"]);
    expect(result.namespaces).toEqual(["team-a"]);
    expect(byPolicy(findings, "privileged")).toHaveLength(0);
    expect(result.tally.kinds.get("Deployment")).toMatchObject({ exempt: 1, evaluated: 0 });
    // The dashboard and load-balancer policies are policies like the others:
    // an exempt namespace is exempt from them too.
    expect(byPolicy(findings, "kubernetes-dashboard")).toHaveLength(0);
    expect(byPolicy(findings, "internal-load-balancer")).toHaveLength(0);
    expect(result.tally.bucket(CLUSTER_BUCKET).counts.fail).toBe(0);
    expect(result.tally.buckets.has("kube-system")).toBe(false);
    expect(findings.some((f) => f.resource?.name === "kube-system")).toBe(false);
  });

  it("checks namespace hygiene: quota, limit range and a default-deny policy", async () => {
    const { result, findings } = await audit(
      [
        namespace("bare"),
        namespace("partial"),
        quota("partial"),
        limitRange("partial"),
        networkPolicy("partial", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] }),
        ...tidyNamespace("tidy"),
      ],
      { policies: ["privileged"] },
    );
    const failing = (id: string) => byPolicy(findings, id).map((f) => f.resource?.name);
    expect(failing(CHECKS.resourceQuota.id)).toEqual(["bare"]);
    expect(failing(CHECKS.limitRange.id)).toEqual(["bare"]);
    expect(failing(CHECKS.defaultDeny.id)).toEqual(["bare", "partial"]);
    expect(result.tally.bucket("tidy").counts).toEqual({
      pass: 3,
      fail: 0,
      warn: 0,
      error: 0,
      skip: 0,
    });
    expect(result.checks.find((c) => c.id === CHECKS.defaultDeny.id)).toMatchObject({
      status: "fail",
      findings: 2,
      passes: 1,
    });
  });

  it("wants a matching PodDisruptionBudget for replicated Deployments and StatefulSets", async () => {
    const { findings } = await audit([
      ...tidyNamespace("a"),
      pdb("a", { matchLabels: { app: "covered" } }),
      pdb("a", null, "selects-nothing"),
      deployment("a", "covered", { replicas: 3, automount: false }),
      deployment("a", "uncovered", { replicas: 2, automount: false }),
      deployment("a", "single", { replicas: 1, automount: false }),
      deployment("a", "db", { replicas: 3, kind: "StatefulSet", automount: false }),
    ]);
    expect(byPolicy(findings, CHECKS.disruptionBudget.id).map((f) => f.resource?.name)).toEqual([
      "uncovered",
      "db",
    ]);
  });

  it("reports the default namespace and public load balancers by their policies only", async () => {
    const objects = [
      ...tidyNamespace("default"),
      deployment("default", "web", { automount: false }),
      service("team", "lb", { type: "LoadBalancer" }),
      ...tidyNamespace("team"),
    ];
    const withPolicies = await audit(objects);
    expect(byPolicy(withPolicies.findings, "default-namespace").length).toBeGreaterThan(0);
    expect(byPolicy(withPolicies.findings, "internal-load-balancer")).toHaveLength(1);
    const items = (findings: AuditFinding[], item: string) =>
      findings.filter((f) => f.checklist.item === item);
    const web = (findings: AuditFinding[]) =>
      items(findings, "Don't use the default namespace").filter((f) => f.resource?.name === "web");
    // One problem, one finding: nothing else reports the same item on the same object.
    expect(web(withPolicies.findings)).toHaveLength(1);
    expect(
      items(withPolicies.findings, "Don't expose your load-balancer on Internet if not necessary"),
    ).toHaveLength(1);

    // Without those policies in the set, nothing in the audit judges either item.
    const without = await audit(objects, { policies: ["privileged"] });
    expect(web(without.findings)).toEqual([]);
    expect(
      items(without.findings, "Don't expose your load-balancer on Internet if not necessary"),
    ).toEqual([]);
    expect(without.result.checks.map((c) => c.id).sort()).toEqual(
      Object.values(CHECKS)
        .map((c) => c.id)
        .sort(),
    );
  });

  it("adds name and label evidence of the dashboard the image policy cannot see", async () => {
    const { findings } = await audit(
      [
        ...tidyNamespace("ui"),
        deployment("ui", "kubernetes-dashboard", {
          image: "contoso.azurecr.io/ui:1",
          automount: false,
        }),
        deployment("ui", "dash", { image: "kubernetesui/dashboard:v2.7.0", automount: false }),
      ],
      { policies: [...POLICIES, "kubernetes-dashboard"] },
    );
    expect(byPolicy(findings, "dashboard").map((f) => f.resource?.name)).toEqual(["dash"]);
    const named = byPolicy(findings, "kubernetes-dashboard");
    expect(named.map((f) => f.resource?.name)).toEqual(["kubernetes-dashboard"]);
    expect(named[0]).toMatchObject({ action: "audit", source: "policy", path: "metadata.name" });
  });

  it("counts as passes only the policies that ran, not those a Job skips", async () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "once", namespace: "a" },
      spec: {
        template: {
          spec: {
            restartPolicy: "Never",
            containers: [{ name: "run", image: "mcr.microsoft.com/run:1.0" }],
          },
        },
      },
    };
    const { result, findings } = await audit([...tidyNamespace("a"), job], {
      policies: ["privileged", "probes"],
    });
    expect(findings.filter((f) => f.source === "policy")).toEqual([]);
    const checked = (item: string) => result.score.items.find((i) => i.item === item)?.checked;
    expect(checked("Don't use privileged containers")).toBe(1);
    expect(checked("Implement a proper Liveness probe")).toBe(0);
    // An item no policy ran on is not scored, so the skip cannot pass it.
    const status = (item: string) => result.score.items.find((i) => i.item === item)?.status;
    expect(status("Don't use privileged containers")).toBe("pass");
    expect(status("Implement a proper Liveness probe")).toBe("out-of-reach");
    expect(status("Implement a proper Readiness probe")).toBe("out-of-reach");
    expect(result.score.items.filter((i) => i.status === "pass").map((i) => i.item)).not.toContain(
      "Implement a proper Liveness probe",
    );
  });

  it("scores a missing readiness probe against the Readiness item, not Liveness", async () => {
    const probed = (name: string, probes: Record<string, unknown>): KubeObject => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "a" },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: "app", image: "mcr.microsoft.com/app:1.0", ...probes }] },
        },
      },
    });
    const probe = { httpGet: { path: "/", port: 8080 } };
    const { result, findings } = await audit(
      [
        ...tidyNamespace("a"),
        probed("both", { livenessProbe: probe, readinessProbe: probe }),
        probed("no-readiness", { livenessProbe: probe }),
      ],
      { policies: ["probes"] },
    );
    expect(byPolicy(findings, "probes").map((f) => [f.resource?.name, f.checklist.item])).toEqual([
      ["no-readiness", "Implement a proper Readiness probe"],
    ]);
    const item = (name: string) => result.score.items.find((i) => i.item === name);
    expect(item("Implement a proper Readiness probe")).toMatchObject({
      status: "fail",
      policies: ["probes"],
      findings: 1,
      checked: 2,
    });
    // Both Deployments had a liveness probe: the failed policy still judged that item.
    expect(item("Implement a proper Liveness probe")).toMatchObject({
      status: "pass",
      findings: 0,
      checked: 2,
    });
  });

  it("judges the version and says unknown when it cannot be read", async () => {
    const old = new FakeSource([], { major: "1", minor: "28", gitVersion: "v1.28.3" });
    const result = await runAudit(old, { policies: policiesOf(["privileged"]) });
    expect(result.checks.find((c) => c.id === CHECKS.version.id)?.status).toBe("fail");
    expect(result.tally.bucket(CLUSTER_BUCKET).kept[0]?.message).toContain("v1.28.3");

    const unknown = await runAudit(new FakeSource([], null), {
      policies: policiesOf(["privileged"]),
    });
    expect(unknown.version.status).toBe("unknown");
    expect(unknown.checks.find((c) => c.id === CHECKS.version.id)?.status).toBe("unknown");
    const item = unknown.score.items.find((i) => i.item === CHECKS.version.checklist.item);
    expect(item).toMatchObject({
      status: "out-of-reach",
      reason: "the server version could not be read",
    });
  });

  it("pages with the given page size and only lists what is needed", async () => {
    const objects = [
      ...tidyNamespace("a"),
      ...Array.from({ length: 5 }, (_, i) => deployment("a", `d${i}`, { automount: false })),
    ];
    const { source, result } = await audit(objects, { pageSize: 2 });
    const deployments = source.calls.filter((c) => c.kind === "Deployment");
    expect(deployments).toHaveLength(3);
    expect(deployments.every((c) => c.limit === 2)).toBe(true);
    expect(result.tally.kinds.get("Deployment")?.listed).toBe(5);
    expect(source.calls.some((c) => c.kind === "Secret" || c.kind === "ConfigMap")).toBe(false);
  });

  it("reads only the namespaces asked for, and fails on one that does not exist", async () => {
    const objects = [
      ...tidyNamespace("a"),
      ...tidyNamespace("b"),
      deployment("a", "x", { privileged: true }),
      deployment("b", "y", { privileged: true }),
    ];
    const { result, findings, source } = await audit(objects, { namespaces: ["b"] });
    expect(result.namespaces).toEqual(["b"]);
    expect(byPolicy(findings, "privileged").map((f) => f.resource?.name)).toEqual(["y"]);
    expect(source.calls.filter((c) => c.kind === "Deployment").map((c) => c.namespace)).toEqual([
      "b",
    ]);
    await expect(audit(objects, { namespaces: ["nope"] })).rejects.toThrow(
      new AuditError("not-found", 'namespace "nope" not found'),
    );
  });

  it("skips namespaces being deleted: no evaluation, no hygiene, no report", async () => {
    const going = { ...namespace("going"), status: { phase: "Terminating" } };
    const { result, findings } = await audit([
      going,
      deployment("going", "web", { privileged: true }),
      ...tidyNamespace("a"),
    ]);
    expect(result.namespaces).toEqual(["a"]);
    expect(
      findings.filter((f) => f.resource?.namespace === "going" || f.resource?.name === "going"),
    ).toEqual([]);
    expect(result.notes.some((n) => n.includes("being deleted: going"))).toBe(true);
  });

  it("stops between pages when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      runAudit(new FakeSource([namespace("a")]), {
        policies: policiesOf(["privileged"]),
        signal: controller.signal,
      }),
    ).rejects.toThrow("stopped");
  });
});

describe("planListing", () => {
  it("lists the kinds policies match, what checks need, and reports what it cannot list", () => {
    const plan = planListing(policiesOf(["internal-load-balancer", "privileged"]).set, [
      "Namespace",
      "Deployment",
      "Service",
      "Pod",
    ]);
    expect(plan.list.map((k) => k.kind)).toEqual(["Namespace", "Deployment", "Pod", "Service"]);
    expect([...plan.evaluate].sort()).toEqual(["Deployment", "Pod", "Service"]);
    expect(plan.unsupported.map((u) => u.kind)).toContain("CronJob");
  });

  it("reads * as the standard kinds, never Secrets or ConfigMaps", () => {
    const plan = planListing(policiesOf(["default-namespace"]).set, [
      "Namespace",
      "ConfigMap",
      "Deployment",
      "Ingress",
    ]);
    expect([...plan.evaluate].sort()).toEqual(["Deployment", "Ingress", "Namespace"]);
  });
});
