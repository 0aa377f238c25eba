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

interface NamedRule extends Rule {
  resourceNames?: string[];
}

describe.each(["overlays/cluster-wide-audit", "overlays/cert-manager-audit"])(
  "%s: leader election",
  (dir) => {
    const objects = render(dir);

    it("may create Leases in Tollgate's namespace and read and renew only tollgate-audit", () => {
      const role = find(objects, "Role", "tollgate-audit-lease") as KubeObject & {
        rules: NamedRule[];
      };
      expect(role.metadata?.namespace).toBe("tollgate-system");
      expect(role.rules).toEqual([
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: ["tollgate-audit"],
          verbs: ["get", "update"],
        },
      ]);
      const binding = find(objects, "RoleBinding", "tollgate-audit-lease") as KubeObject & {
        roleRef: { kind: string; name: string };
        subjects: { name: string; namespace: string }[];
      };
      expect(binding.roleRef).toMatchObject({ kind: "Role", name: "tollgate-audit-lease" });
      expect(binding.subjects).toEqual([
        expect.objectContaining({ name: "tollgate", namespace: "tollgate-system" }),
      ]);
    });

    it("mounts the service account token and passes --background-audit", () => {
      const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
        spec: {
          template: {
            spec: { automountServiceAccountToken: boolean; containers: { args: string[] }[] };
          };
        };
      };
      const { spec } = deployment.spec.template;
      expect(spec.automountServiceAccountToken).toBe(true);
      expect(spec.containers[0]?.args).toContain("--background-audit=1h");
    });
  },
);

describe("overlays/cert-manager-audit", () => {
  const objects = render("overlays/cert-manager-audit");

  it("serves cert-manager's certificate and has no RBAC for self-managed certificates", () => {
    const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const args = deployment.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toEqual(expect.arrayContaining(["--cert=/certs/tls.crt", "--key=/certs/tls.key"]));
    expect(args).not.toContain("--manage-certs");
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(names).not.toContain("Role/tollgate-certificates");
    expect(names).not.toContain("ClusterRole/tollgate-ca-injection");
    expect(names).toContain("Certificate/tollgate-serving");
  });
});
