// The rendered base: what narrows Tollgate's reach beyond RBAC. The policies
// themselves are proven against the real API server in
// test/e2e/least-privilege.test.ts; here, that they are shipped and aimed right.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { find, REPO, render } from "./render.js";

const SA_USER = "system:serviceaccount:tollgate-system:tollgate";

interface Policy {
  spec: {
    failurePolicy: string;
    matchConditions: { expression: string }[];
    matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] };
  };
}

describe.each(["base", "overlays/cluster-wide", "overlays/opt-in", "overlays/cert-manager"])(
  "%s",
  (dir) => {
    const objects = render(dir);

    it("ships the PolicyException CRD, lets Tollgate only list and watch it, and aggregates it into no built-in role", () => {
      expect(
        find(objects, "CustomResourceDefinition", "policyexceptions.tollgate.dev"),
      ).toBeDefined();
      type Role = KubeObject & { rules: { resources: string[]; verbs: string[] }[] };
      const roles = objects.filter((o) => o.kind === "ClusterRole" || o.kind === "Role") as Role[];
      const touching = roles.filter((r) =>
        r.rules.some((rule) => rule.resources.includes("policyexceptions")),
      );
      expect(touching.map((r) => r.metadata?.name).sort()).toEqual([
        "tollgate-exception-approver",
        "tollgate-exception-reader",
        "tollgate-exceptions-watch",
      ]);
      for (const role of touching) {
        const labels = Object.keys(role.metadata?.labels ?? {});
        expect(
          labels.filter((l) => l.includes("aggregate-to")),
          role.metadata?.name,
        ).toEqual([]);
      }
      const watch = touching.find((r) => r.metadata?.name === "tollgate-exceptions-watch") as Role;
      expect(watch.rules).toEqual([
        { apiGroups: ["tollgate.dev"], resources: ["policyexceptions"], verbs: ["list", "watch"] },
      ]);
      const bindings = objects.filter((o) => o.kind?.endsWith("RoleBinding")) as (KubeObject & {
        roleRef: { name: string };
        subjects: { name: string }[];
      })[];
      const ofExceptions = bindings.filter((b) => b.roleRef.name.includes("exception"));
      expect(ofExceptions.map((b) => [b.roleRef.name, b.subjects.map((s) => s.name)])).toEqual([
        ["tollgate-exceptions-watch", ["tollgate"]],
      ]);
    });

    it("runs the webhook as system-cluster-critical", () => {
      const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
        spec: { template: { spec: { priorityClassName?: string } } };
      };
      expect(deployment.spec.template.spec.priorityClassName).toBe("system-cluster-critical");
    });

    it("opens 8443 of the webhook pods to all, and 9090 (metrics) to labelled namespaces only", () => {
      const policy = find(objects, "NetworkPolicy", "tollgate") as KubeObject & {
        spec: {
          podSelector: { matchLabels: Record<string, string> };
          policyTypes: string[];
          ingress: { from?: unknown[]; ports: { port: number; protocol: string }[] }[];
        };
      };
      const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
        spec: { template: { metadata: { labels: Record<string, string> } } };
      };
      const podLabels = deployment.spec.template.metadata.labels;
      for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) {
        expect(podLabels[key], key).toBe(value);
      }
      expect(policy.spec.policyTypes).toEqual(["Ingress"]);
      expect(policy.spec.ingress).toEqual([
        { ports: [{ port: 8443, protocol: "TCP" }] },
        {
          from: [
            { namespaceSelector: { matchLabels: { "tollgate.dev/metrics-scraper": "true" } } },
          ],
          ports: [{ port: 9090, protocol: "TCP" }],
        },
      ]);
      // The metrics port is the one the server serves /metrics on.
      const container = (
        deployment as unknown as {
          spec: { template: { spec: { containers: { args: string[] }[] } } };
        }
      ).spec.template.spec.containers[0];
      expect(container?.args).toContain("--metrics-port=9090");
    });

    it("binds both admission policies to Tollgate's ServiceAccount, failing closed", () => {
      for (const name of ["tollgate-ca-bundle-only", "tollgate-own-secret-only"]) {
        const policy = find(objects, "ValidatingAdmissionPolicy", name) as KubeObject & Policy;
        const binding = find(objects, "ValidatingAdmissionPolicyBinding", name) as KubeObject & {
          spec: { policyName: string; validationActions: string[] };
        };
        expect(binding.spec).toEqual({ policyName: name, validationActions: ["Deny"] });
        expect(policy.spec.failurePolicy).toBe("Fail");
        expect(policy.spec.matchConditions.map((c) => c.expression)).toEqual([
          `request.userInfo.username == "${SA_USER}"`,
        ]);
      }
      const caBundle = find(objects, "ValidatingAdmissionPolicy", "tollgate-ca-bundle-only");
      const rules = (caBundle as KubeObject & Policy).spec.matchConstraints.resourceRules;
      expect(rules.flatMap((r) => r.resources).sort()).toEqual([
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
      ]);
    });
  },
);

describe("Dockerfile", () => {
  it("pins every base image by digest", () => {
    const text = readFileSync(`${REPO}Dockerfile`, "utf8");
    const images = [...text.matchAll(/^ARG NODE_\w+_IMAGE=(\S+)$/gm)].map((m) => m[1] ?? "");
    expect(images).toHaveLength(2);
    for (const image of images) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    // Every stage starts from one of the two pinned arguments.
    const froms = [...text.matchAll(/^FROM \$\{(\w+)\}/gm)].map((m) => m[1]);
    const stages = [...text.matchAll(/^FROM /gm)];
    expect(froms).toEqual(["NODE_BUILD_IMAGE", "NODE_BUILD_IMAGE", "NODE_RUNTIME_IMAGE"]);
    expect(stages).toHaveLength(froms.length);
  });
});
