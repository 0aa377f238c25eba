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

// The background audit writing each report API: deploy/components/openreports
// turns the component's PolicyReports into OpenReports.
describe.each([
  {
    dir: "overlays/cluster-wide-audit",
    reportApi: "wgpolicyk8s",
    group: "wgpolicyk8s.io",
    crds: ["clusterpolicyreports.wgpolicyk8s.io", "policyreports.wgpolicyk8s.io"],
    apiArgs: [],
  },
  {
    dir: "../test/deploy/helm-overlays/openreports",
    reportApi: "openreports",
    group: "openreports.io",
    // The OpenReports CRDs come from the OpenReports project, not from Tollgate.
    crds: [],
    apiArgs: ["--report-api=openreports"],
  },
] as const)("$dir", ({ dir, reportApi, group, crds, apiArgs }) => {
  const objects = render(dir);

  it(`installs the report CRDs: ${crds.join(", ") || "none"}`, () => {
    const installed = objects
      .filter((o) => o.kind === "CustomResourceDefinition")
      .map((o) => o.metadata?.name ?? "")
      .filter((name) => /\.(wgpolicyk8s|openreports)\.io$/.test(name))
      .sort();
    expect(installed).toEqual(crds);
  });

  it(`grants exactly what the audit code asks for with --report-api ${reportApi}, to Tollgate's service account`, () => {
    const role = find(objects, "ClusterRole", "tollgate-audit") as KubeObject & { rules: Rule[] };
    const needed = grants(auditRbacRules({ writeReports: true, reportApi }) as Rule[]);
    const given = grants(role.rules);
    expect([...given].sort()).toEqual([...needed].sort());
    // Nothing beyond: no Secrets, no writes outside the reports.
    for (const grant of given) {
      expect(grant).not.toMatch(/secrets|configmaps/);
      if (!grant.startsWith(`${group}/`)) expect(grant).toMatch(/:(get|list|watch)$/);
    }
    const binding = find(objects, "ClusterRoleBinding", "tollgate-audit") as KubeObject & {
      subjects: { name: string; namespace: string }[];
    };
    expect(binding.subjects).toEqual([
      expect.objectContaining({ name: "tollgate", namespace: "tollgate-system" }),
    ]);
  });

  it("runs the webhook with --background-audit and the report API", () => {
    const deployment = find(objects, "Deployment", "tollgate") as KubeObject & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const args = deployment.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toContain("--background-audit=1h");
    expect(args.filter((a) => a.startsWith("--report-api"))).toEqual(apiArgs);
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
