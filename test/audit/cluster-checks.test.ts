import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_CHECKS,
  dashboardEvidence,
  isDashboardImage,
  isDefaultDenyIngress,
  isInternalLoadBalancer,
  judgeVersion,
  NEWEST_KNOWN_VERSION,
  replicasOf,
} from "../../src/audit/cluster-checks.js";
import { isChecklistItem } from "../../src/engine/index.js";
import { DEFAULT_DENY, deployment, networkPolicy, service } from "./fakes.js";

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
  const newest = { major: 1, minor: 34 };

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
    expect(judgeVersion(undefined).status).toBe("unknown");
    expect(judgeVersion({ major: "", minor: "", gitVersion: "weird" }).status).toBe("unknown");
  });

  it("uses the newest version the bundled client-node was generated from", () => {
    // Keeps NEWEST_KNOWN_VERSION in step with @kubernetes/client-node upgrades.
    const require = createRequire(import.meta.url);
    const main = require.resolve("@kubernetes/client-node");
    const model = join(dirname(main), "gen", "models", "V1Pod.js");
    const match = /OpenAPI spec version: v(\d+)\.(\d+)/.exec(readFileSync(model, "utf8"));
    expect(match).not.toBeNull();
    expect({ major: Number(match?.[1]), minor: Number(match?.[2]) }).toEqual(NEWEST_KNOWN_VERSION);
  });
});

describe("dashboard detection", () => {
  it.each([
    ["kubernetesui/dashboard:v2.7.0", true],
    ["docker.io/kubernetesui/metrics-scraper:v1.0.8", true],
    ["myregistry.azurecr.io/mirror/kubernetesui/dashboard-api:1.0", true],
    ["k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1", true],
    ["mcr.microsoft.com/oss/kubernetes/dashboard:v2.0.0", true],
    ["nginx:1.27", false],
    ["contoso.azurecr.io/dashboard:1", false],
  ])("%s → %s", (image, expected) => {
    expect(isDashboardImage(image)).toBe(expected);
  });

  it("finds names, labels and images", () => {
    expect(dashboardEvidence(deployment("x", "kubernetes-dashboard"))).toContain("named");
    expect(
      dashboardEvidence(service("x", "ui", { labels: { "k8s-app": "kubernetes-dashboard" } })),
    ).toContain("labelled k8s-app=kubernetes-dashboard");
    expect(
      dashboardEvidence(deployment("x", "ui", { image: "kubernetesui/dashboard:v2" })),
    ).toContain("dashboard image");
    expect(dashboardEvidence(deployment("x", "web"))).toBeUndefined();
  });
});

describe("workloads and services", () => {
  it("counts an omitted replicas as 1", () => {
    expect(replicasOf(deployment("x", "a"))).toBe(1);
    expect(replicasOf(deployment("x", "a", { replicas: 3 }))).toBe(3);
  });

  it("keeps a load balancer internal only for the exact string true", () => {
    const lb = (value?: string) =>
      service("x", "s", {
        type: "LoadBalancer",
        annotations:
          value === undefined
            ? {}
            : { "service.beta.kubernetes.io/azure-load-balancer-internal": value },
      });
    expect(isInternalLoadBalancer(lb("true"))).toBe(true);
    expect(isInternalLoadBalancer(lb("True"))).toBe(false);
    expect(isInternalLoadBalancer(lb())).toBe(false);
  });
});

it("ties every cluster check to a checklist item", () => {
  for (const check of CLUSTER_CHECKS) {
    expect(isChecklistItem(check.checklist.section, check.checklist.item), check.id).toBe(true);
  }
  expect(new Set(CLUSTER_CHECKS.map((c) => c.id)).size).toBe(CLUSTER_CHECKS.length);
});
