import { describe, expect, it } from "vitest";
import { judgeVersion } from "../../policies/cluster/kubernetes-version/index.js";
import { isDefaultDenyIngress } from "../../policies/cluster/namespace-default-deny/index.js";
import { registry } from "../../policies/index.js";
import { isChecklistItem } from "../../src/engine/index.js";
import { replicasOf } from "../../src/engine/kit/index.js";
import { loadClusterChecks } from "../../src/policyset/index.js";
import { DEFAULT_DENY, deployment, networkPolicy } from "./fakes.js";

describe("isDefaultDenyIngress", () => {
  const deny = (spec: Record<string, unknown>) => isDefaultDenyIngress(networkPolicy("a", spec));

  it("accepts an empty podSelector with Ingress and no rules", () => {
    expect(deny(DEFAULT_DENY)).toBe(true);
    expect(deny({ podSelector: {}, policyTypes: ["Ingress", "Egress"] })).toBe(true);
    expect(deny({ podSelector: { matchLabels: {} }, ingress: [] })).toBe(true);
  });

  it("reads an omitted policyTypes as Ingress", () => {
    expect(deny({ podSelector: {} })).toBe(true);
  });

  it("rejects policies that select some pods, allow traffic or only cover egress", () => {
    expect(deny({ podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] })).toBe(
      false,
    );
    expect(deny({ podSelector: { matchExpressions: [{ key: "a", operator: "Exists" }] } })).toBe(
      false,
    );
    // A rule `{}` allows everything.
    expect(deny({ podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] })).toBe(false);
    expect(deny({ podSelector: {}, policyTypes: ["Egress"] })).toBe(false);
    expect(deny({ policyTypes: ["Ingress"] })).toBe(false);
  });
});

describe("judgeVersion", () => {
  const v = (minor: string, gitVersion = `v1.${minor}.0`) => ({ major: "1", minor, gitVersion });
  const newest = ["1.32", "1.33", "1.34"];

  it("passes the newest three minors and anything newer", () => {
    expect(judgeVersion(v("34"), newest).status).toBe("pass");
    expect(judgeVersion(v("32"), newest).status).toBe("pass");
    expect(judgeVersion(v("37"), newest).status).toBe("pass");
  });

  it("fails more than two minors behind, naming the version to reach", () => {
    const verdict = judgeVersion(v("31"), newest);
    expect(verdict.status).toBe("fail");
    expect(verdict.message).toContain("v1.31.0 is 3 minor versions behind 1.34");
    expect(verdict.message).toContain("1.32 or later");
  });

  it("reads provider minors such as 29+", () => {
    expect(
      judgeVersion({ major: "1", minor: "29+", gitVersion: "v1.29.4-gke.1" }, newest).status,
    ).toBe("fail");
  });

  it("says unknown when the version cannot be read", () => {
    expect(judgeVersion(undefined, newest).status).toBe("unknown");
    expect(judgeVersion({ major: "", minor: "", gitVersion: "weird" }, newest).status).toBe(
      "unknown",
    );
  });

  it("reads the supported versions from its check.yaml, not from a library", () => {
    const check = loadClusterChecks(registry).find(
      (c) => c.declaration.id === "kubernetes-version",
    );
    if (!check) throw new Error("kubernetes-version is not in the registry");
    const { supported } = check.declaration.parameters as { supported: string[] };
    expect(supported.length).toBeGreaterThan(0);
    const facts = (minor: string) => ({
      namespaces: [],
      observed: [],
      serverVersion: v(minor),
    });
    const oldest = Math.min(...supported.map((s) => Number(s.split(".")[1])));
    const judge = (minor: number) =>
      check.module.judge(facts(String(minor)), check.declaration.parameters)[0]?.status;
    expect(judge(oldest)).toBe("pass");
    expect(judge(oldest - 1)).toBe("fail");
    // Other data, other judgement: the window moves with the list.
    const later = { supported: [`1.${oldest + 1}`] };
    expect(check.module.judge(facts(String(oldest)), later)[0]?.status).toBe("fail");
  });
});

describe("workloads", () => {
  it("counts an omitted replicas as 1", () => {
    expect(replicasOf(deployment("x", "a"))).toBe(1);
    expect(replicasOf(deployment("x", "a", { replicas: 3 }))).toBe(3);
  });
});

it("ties every check to a checklist item", () => {
  const checks = loadClusterChecks(registry).map((c) => c.declaration);
  for (const check of checks) {
    expect(isChecklistItem(check.checklist.section, check.checklist.item), check.id).toBe(true);
  }
  expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
});
