import { describe, expect, it } from "vitest";
import { auditRbacRules } from "../../src/audit/kinds.js";
import type { KubeObject } from "../../src/engine/index.js";
import { find, render } from "./render.js";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function grants(rules: Rule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs) out.add(`${group}/${resource}:${verb}`);
  }
  return out;
}

describe("overlays/cluster-wide-audit", () => {
  const objects = render("overlays/cluster-wide-audit");

  it("installs both PolicyReport CRDs", () => {
    const crds = objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => o.metadata?.name);
    expect(crds).toEqual(
      expect.arrayContaining([
        "policyreports.wgpolicyk8s.io",
        "clusterpolicyreports.wgpolicyk8s.io",
      ]),
    );
  });

  it("grants exactly what the audit code asks for, to Tollgate's service account", () => {
    const role = find(objects, "ClusterRole", "tollgate-audit") as KubeObject & { rules: Rule[] };
    const needed = grants(auditRbacRules({ writeReports: true }) as Rule[]);
    const given = grants(role.rules);
    for (const grant of needed) expect(given).toContain(grant);
    // Nothing beyond: no Secrets, no writes outside the reports.
    for (const grant of given) {
      expect(grant).not.toMatch(/secrets|configmaps/);
      if (!grant.startsWith("wgpolicyk8s.io/")) expect(grant).toMatch(/:(get|list|watch)$/);
    }
    const binding = find(objects, "ClusterRoleBinding", "tollgate-audit") as KubeObject & {
      subjects: { name: string; namespace: string }[];
    };
    expect(binding.subjects).toEqual([
      expect.objectContaining({ name: "tollgate", namespace: "tollgate-system" }),
    ]);
  });

  it("runs the webhook with --background-audit", () => {
    const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.args).toContain("--background-audit=1h");
  });
});
