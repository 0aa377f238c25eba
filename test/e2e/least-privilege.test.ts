// Tollgate's ServiceAccount against the real API server, impersonated with
// kubectl --as: the shipped RBAC (deploy/base/rbac.yaml) grants only what the
// certificate code calls, and the shipped ValidatingAdmissionPolicies
// (deploy/base/admission-policy.yaml) let it change nothing on its webhook
// configurations but caBundle and create no Secret but tollgate-tls.
// Writes go with --dry-run=server: admission runs in full, nothing is stored.
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { render } from "../deploy/render.js";
import { apply, expectSuccess, kubectl, type Result } from "./support/kubectl.js";

const SA = "system:serviceaccount:tollgate-system:tollgate";
// Not the Namespace: its Pod Security labels would change tollgate-system for
// the other suites, which create pods there.
const SHIPPED_KINDS = new Set([
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

function asTollgate(args: readonly string[], input?: string): Promise<Result> {
  return kubectl(["--as", SA, ...args], input === undefined ? {} : { input });
}

function canI(verb: string, resource: string, namespace?: string): Promise<Result> {
  const scope = namespace ? ["-n", namespace] : [];
  return asTollgate(["auth", "can-i", verb, resource, ...scope]);
}

function jsonPatch(kind: string, name: string, ops: object[]): Promise<Result> {
  return asTollgate([
    "patch",
    kind,
    name,
    "--type=json",
    `-p=${JSON.stringify(ops)}`,
    "--dry-run=server",
  ]);
}

/** Retries while the policy is not yet in force (the API server loads it asynchronously). */
async function eventually(attempt: () => Promise<Result>, until: (r: Result) => boolean) {
  let result = await attempt();
  for (let tries = 0; tries < 40 && !until(result); tries++) {
    await new Promise((done) => setTimeout(done, 250));
    result = await attempt();
  }
  return result;
}

const denied = (r: Result) => r.code !== 0 && /ValidatingAdmissionPolicy/.test(r.stderr);

describe("Tollgate's ServiceAccount has least privilege", () => {
  beforeAll(async () => {
    if ((await kubectl(["get", "namespace", "tollgate-system"])).code !== 0) {
      expectSuccess(await kubectl(["create", "namespace", "tollgate-system"]), "create namespace");
    }
    const shipped = render("base").filter((o: KubeObject) => SHIPPED_KINDS.has(o.kind ?? ""));
    expectSuccess(await apply(shipped), "apply the shipped RBAC and admission policies");
  });

  it("may read and patch its own webhook configurations and Secret, nothing else", async () => {
    expect(
      (await canI("patch", "validatingwebhookconfigurations/tollgate-enforce")).stdout,
    ).toMatch(/^yes/);
    expect((await canI("patch", "mutatingwebhookconfigurations/tollgate")).stdout).toMatch(/^yes/);
    expect((await canI("get", "secrets/tollgate-tls", "tollgate-system")).stdout).toMatch(/^yes/);
    for (const [verb, resource, namespace] of [
      ["patch", "validatingwebhookconfigurations/someone-else", undefined],
      ["delete", "validatingwebhookconfigurations/tollgate-enforce", undefined],
      ["update", "validatingwebhookconfigurations/tollgate-enforce", undefined],
      ["create", "validatingwebhookconfigurations", undefined],
      ["list", "validatingwebhookconfigurations", undefined],
      ["get", "secrets/other", "tollgate-system"],
      ["list", "secrets", "tollgate-system"],
      ["create", "secrets", "kube-system"],
      ["create", "pods", "tollgate-system"],
      ["create", "validatingadmissionpolicies", undefined],
    ] as const) {
      const result = await canI(verb, resource, namespace);
      expect(result.stdout.trim(), `${verb} ${resource} ${namespace ?? ""}`).toBe("no");
    }
  });

  it("is denied a change of a webhook URL, even by one character", async () => {
    const result = await eventually(
      () =>
        jsonPatch("validatingwebhookconfiguration", "tollgate-enforce", [
          {
            op: "replace",
            path: "/webhooks/0/clientConfig/url",
            value: "https://attacker.example:443/x",
          },
        ]),
      denied,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("tollgate-ca-bundle-only");
    expect(result.stderr).toContain("may change only the caBundle");
  });

  it("is denied changes to rules, selectors, failure policy and labels", async () => {
    const attempts: [string, string, object[]][] = [
      [
        "mutatingwebhookconfiguration",
        "tollgate",
        [{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Fail" }],
      ],
      [
        "validatingwebhookconfiguration",
        "tollgate-enforce",
        [{ op: "remove", path: "/webhooks/0/namespaceSelector" }],
      ],
      [
        "validatingwebhookconfiguration",
        "tollgate-report",
        [{ op: "replace", path: "/webhooks/0/rules/0/operations", value: ["CREATE"] }],
      ],
      [
        "validatingwebhookconfiguration",
        "tollgate-enforce",
        [{ op: "remove", path: "/webhooks/0" }],
      ],
      [
        "validatingwebhookconfiguration",
        "tollgate-enforce",
        [{ op: "add", path: "/metadata/labels", value: { x: "y" } }],
      ],
    ];
    for (const [kind, name, ops] of attempts) {
      const result = await eventually(() => jsonPatch(kind, name, ops), denied);
      expect(result.stderr, JSON.stringify(ops)).toContain("ValidatingAdmissionPolicy");
    }
  });

  it("may change a caBundle", async () => {
    const caBundle = Buffer.from("-----BEGIN CERTIFICATE-----\nnot checked here\n").toString(
      "base64",
    );
    const result = await jsonPatch("validatingwebhookconfiguration", "tollgate-enforce", [
      { op: "replace", path: "/webhooks/0/clientConfig/caBundle", value: caBundle },
    ]);
    expectSuccess(result, "caBundle patch as Tollgate");
  });

  it("may create the tollgate-tls Secret and no other", async () => {
    const secret = (name: string) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: "tollgate-system" },
        type: "kubernetes.io/tls",
        data: { "tls.crt": "", "tls.key": "" },
      });
    const other = await eventually(
      () => asTollgate(["create", "-f", "-", "--dry-run=server"], secret("planted")),
      denied,
    );
    expect(other.stderr).toContain("may create only the Secret tollgate-system/tollgate-tls");
    const exists = await kubectl(["get", "secret", "-n", "tollgate-system", "tollgate-tls"]);
    if (exists.code !== 0) {
      const own = await asTollgate(
        ["create", "-f", "-", "--dry-run=server"],
        secret("tollgate-tls"),
      );
      expectSuccess(own, "create tollgate-tls as Tollgate");
    }
  });
});
