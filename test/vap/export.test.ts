// `tollgate policies -o vap`, offline: the generated ValidatingAdmissionPolicies
// load in Tollgate's VAP evaluator (whose CEL environment refuses what the API
// server's does) and decide every example and Pod Security Standards fixture
// as the engine does. test/e2e/vap-export.test.ts proves the same against the
// real API server.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { AdmissionInput, KubeObject } from "../../src/engine/index.js";
import { DEFAULT_CAPABILITIES, SAFE_SYSCTLS } from "../../src/engine/kit/index.js";
import { ENFORCED_RESOURCES, enforcedNamespaceSelector, exportVaps } from "../../src/vap/export.js";
import { readVapForm } from "../../src/vap/forms.js";
import { evaluateVaps, loadVapSet, type VapSet } from "../../src/vap/index.js";
import { workspace } from "../cli/support.js";
import { exampleObjects, objectOf, shippedPolicies } from "../support/policies.js";
import { loadPssFixtures, type PssFixture } from "../support/pss.js";
import { EngineJudge, exportOf, objectsOfPolicy, resolvedOf } from "../support/vap-export.js";

const REPO = new URL("../../", import.meta.url);

const resolved = resolvedOf();
const exported = exportOf(resolved);
const engine = new EngineJudge(resolved, exported.exported);

/** The VAP and binding of one policy, loaded as `tollgate test --policies` would. */
function vapSetOf(id: string) {
  const objects = objectsOfPolicy(exported, id);
  expect(objects.map((o) => o.kind)).toEqual([
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
  ]);
  const { set, problems } = loadVapSet(objects.map((object) => ({ object, where: id })));
  expect(problems).toEqual([]);
  return set;
}

const sets = new Map(exported.exported.map((id) => [id, vapSetOf(id)]));

interface Judged {
  engine: boolean;
  vap: boolean;
  messages: string[];
}

/**
 * Whether the engine, behind the enforce webhook, and the policy's VAP deny
 * this object on CREATE, as `username` sends it.
 */
function judge(id: string, written: KubeObject, username = "alice"): Judged {
  const input = EngineJudge.input(written, "vap-export", username);
  const vapSet = sets.get(id);
  if (!vapSet) throw new Error(`${id} is not exported`);
  const decisions = evaluateVaps(vapSet, {
    object: input.object as KubeObject,
    oldObject: undefined,
    operation: "CREATE",
    namespace: input.namespace,
    clusterScoped: false,
    userInfo: { username, groups: ["system:authenticated"] },
  });
  return {
    engine: engine.denies(id, input),
    vap: decisions.some((d) => d.actions.includes("Deny")),
    messages: decisions.map((d) => d.message),
  };
}

/** Whether a VAP of `set` denies the webhook's request `input` (a CREATE in vap-export). */
function vapDenies(set: VapSet, input: AdmissionInput): boolean {
  return evaluateVaps(set, {
    object: input.object as KubeObject,
    oldObject: undefined,
    operation: "CREATE",
    namespace: input.namespace,
    clusterScoped: false,
    userInfo: { username: input.userInfo?.username ?? "" },
  }).some((d) => d.actions.includes("Deny"));
}

describe("tollgate policies -o vap, offline", () => {
  it("exports every shipped deny policy that has an exact CEL form, and names the others with a reason", () => {
    const deny = shippedPolicies()
      .filter((p) => p.declaration.type === "validate" && p.declaration.action === "deny")
      .map((p) => p.declaration.id);
    expect([...exported.exported, ...exported.notExported.map((n) => n.id)].sort()).toEqual(
      deny.sort(),
    );
    for (const id of deny) {
      const file = shippedPolicies().find((p) => p.declaration.id === id)?.file ?? "";
      expect(readVapForm(file), `policies/${id}/vap.yaml`).toBeDefined();
    }
    expect(exported.exported.length).toBe(20);
    expect(exported.notExported).toEqual([
      { id: "secret-env", reason: expect.stringContaining("lookahead") },
    ]);
    for (const { reason } of exported.notExported) expect(reason).not.toContain("\n");
  });

  it("inlines the parameters: no generated expression reads params", () => {
    const text = JSON.stringify(exported.objects);
    expect(text).not.toMatch(/\bparams\b/);
    expect(
      exported.objects
        .filter((o) => o.kind === "ValidatingAdmissionPolicy")
        .map((o) => (o.spec as { paramKind?: unknown }).paramKind),
    ).toEqual(exported.exported.map(() => undefined));
  });

  it("refuses a form using cel.bind, as the API server refused it", () => {
    const bound = exportVaps(resolved, (p) =>
      p.declaration.id === "privileged"
        ? {
            variables: [],
            literalParameters: [],
            validations: [
              {
                expression: "cel.bind(cs, variables.containers, cs.all(c, true))",
                message: "m",
              },
            ],
          }
        : undefined,
    );
    const { problems } = loadVapSet(bound.objects.map((object) => ({ object, where: "bound" })));
    expect(problems.map((p) => p.message).join("\n")).toContain("has no cel.bind");
  });

  it.each(exported.exported)(
    "%s: the VAP decides every pass and fail example as the engine",
    (id) => {
      const pass = exampleObjects(id, "pass");
      const fail = exampleObjects(id, "fail");
      const got = [...pass, ...fail].map((o) => {
        const { engine, vap } = judge(id, o);
        return `${o.kind}/${o.metadata?.name}: engine ${engine ? "deny" : "allow"}, vap ${vap ? "deny" : "allow"}`;
      });
      const want = [...pass, ...fail].map((o, i) => {
        // A kind the webhook does not send (a Secret in default) is allowed by both.
        const deny = i >= pass.length && engine.sent.has(o.kind ?? "");
        return `${o.kind}/${o.metadata?.name}: engine ${deny ? "deny" : "allow"}, vap ${deny ? "deny" : "allow"}`;
      });
      expect(got).toEqual(want);
    },
  );

  it("leaves a controller's copy to the owner's policy, as the engine does, and denies the same pod from anyone else", () => {
    const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata:
  name: web-abc
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, controller: true}]
spec:
  containers: [{name: a, image: mcr.microsoft.com/a:1, securityContext: {privileged: true}}]
`);
    const copy = judge(
      "privileged",
      pod,
      "system:serviceaccount:kube-system:replicaset-controller",
    );
    expect([copy.engine, copy.vap]).toEqual([false, false]);
    const manager = judge("privileged", pod, "system:kube-controller-manager");
    expect([manager.engine, manager.vap]).toEqual([false, false]);
    const user = judge("privileged", pod, "alice");
    expect([user.engine, user.vap]).toEqual([true, true]);
    expect(user.messages).toEqual([
      "privileged: a container runs privileged; remove securityContext.privileged or set it to false",
    ]);
  });

  it("keeps the capability and sysctl lists of the CEL forms equal to the engine's", () => {
    const pod = (securityContext: object, podContext: object = {}) =>
      objectOf(
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p" },
          spec: {
            securityContext: podContext,
            containers: [{ name: "a", image: "mcr.microsoft.com/a:1", securityContext }],
          },
        }),
      );
    for (const add of [...DEFAULT_CAPABILITIES, "SYS_ADMIN", "NET_RAW", "chown", "CAP_CHOWN"]) {
      const { engine, vap } = judge("capabilities", pod({ capabilities: { add: [add] } }));
      expect(`${add}: ${vap}`).toBe(`${add}: ${engine}`);
    }
    for (const name of [...SAFE_SYSCTLS, "kernel.msgmax", "net.core.somaxconn", ""]) {
      const { engine, vap } = judge("sysctls", pod({}, { sysctls: [{ name, value: "1" }] }));
      expect(`${name}: ${vap}`).toBe(`${name}: ${engine}`);
    }
  });

  it("reads images and trusted entries as the engine does, edge cases included", () => {
    const registries = [
      "*.azurecr.io",
      "contoso.azurecr.io/team/",
      "docker.io/library",
      "localhost:5000",
      "*.example.com:5000",
      " Index.Docker.io/bitnami ",
      "[::1]:5000/x",
    ];
    const config = workspace({
      "p.yaml": `apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\npolicies:\n  trusted-registry:\n    parameters:\n      registries: ${JSON.stringify(registries)}\n`,
    });
    const custom = resolvedOf(`${config}/p.yaml`);
    const out = exportOf(custom);
    const judge = new EngineJudge(custom, ["trusted-registry", "dashboard"]);
    const vaps = new Map(
      ["trusted-registry", "dashboard"].map((id) => [
        id,
        loadVapSet(objectsOfPolicy(out, id).map((object) => ({ object, where: id }))).set,
      ]),
    );
    const images = [
      "a.azurecr.io/x:1",
      "a.b.azurecr.io/x",
      "azurecr.io/x",
      "a.azurecr.io.evil.com/x",
      "A.AZURECR.IO/x@sha256:abc",
      "contoso.azurecr.io/team/app:1",
      "contoso.azurecr.io/teamx/app",
      "contoso.azurecr.io/team",
      "nginx",
      "nginx:1.27",
      "library/nginx",
      "docker.io/nginx",
      "index.docker.io/library/nginx",
      "bitnami/redis",
      "docker.io/bitnami/redis:7",
      "registry-1.docker.io/bitnami/redis",
      "localhost:5000/app",
      "localhost/app",
      "a.example.com:5000/x",
      "a.example.com/x",
      "a.example.com:5001/x",
      "example.com:5000/x",
      "[::1]:5000/x/y",
      "  nginx  ",
      "",
      "kubernetesui/dashboard:v2.7.0",
      "mcr.microsoft.com/oss/kubernetes/dashboard:v2",
      "k8s.gcr.io/kubernetes-dashboard-amd64:v1",
      "docker.io/kubernetesui/metrics-scraper",
      "example.com/dashboard",
      "example.com/kubernetesui",
      "example.com/a/kubernetes/dashboard-api",
      "Example.com/KubernetesUI/x",
    ];
    const disagreements: string[] = [];
    for (const image of images) {
      const pod = objectOf(
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p" },
          spec: { containers: [{ name: "a", image }] },
        }),
      );
      const input = EngineJudge.input(pod, "vap-export", "alice");
      for (const [id, set] of vaps) {
        const vap = vapDenies(set, input);
        if (vap !== judge.denies(id, input))
          disagreements.push(`${id} ${JSON.stringify(image)}: vap ${vap}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("reads Ingress hosts, domains and TLS hosts as the engine does, edge cases included", () => {
    const config = workspace({
      "p.yaml":
        "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\npolicies:\n  ingress-host:\n    parameters:\n      allowedDomains: [example.com, Contoso.NET]\n",
    });
    const variants = [resolvedOf(), resolvedOf(`${config}/p.yaml`)];
    const cases: object[] = [
      { rules: [{ host: "a.example.com" }], tls: [{ hosts: ["a.example.com"] }] },
      { rules: [{ host: "A.Example.com." }], tls: [{ hosts: ["a.example.com"] }] },
      { rules: [{ host: "a.example.com" }], tls: [{ hosts: ["*.example.com"] }] },
      { rules: [{ host: "a.b.example.com" }], tls: [{ hosts: ["*.example.com"] }] },
      { rules: [{ host: "example.com" }], tls: [{ hosts: ["*.example.com"] }] },
      { rules: [{ host: "badexample.com" }], tls: [{ hosts: ["badexample.com"] }] },
      { rules: [{ host: "x.contoso.net" }], tls: [{ hosts: ["X.CONTOSO.NET."] }] },
      { rules: [{ host: "*.example.com" }], tls: [{ hosts: ["*.example.com"] }] },
      { rules: [{}], tls: [] },
      { rules: [{ host: "a.example.com" }] },
      {
        rules: [{ host: "a.example.com" }, { host: "b.example.com" }],
        tls: [{ hosts: ["a.example.com"] }, { hosts: ["b.example.com"] }],
      },
      { defaultBackend: { service: { name: "s", port: { number: 80 } } } },
      {},
    ];
    const disagreements: string[] = [];
    for (const [v, custom] of variants.entries()) {
      const out = exportOf(custom);
      const judge = new EngineJudge(custom, ["ingress-host"]);
      const set = loadVapSet(
        objectsOfPolicy(out, "ingress-host").map((object) => ({ object, where: "i" })),
      ).set;
      for (const spec of cases) {
        const ingress = objectOf(
          JSON.stringify({
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "i" },
            spec,
          }),
        );
        const input = EngineJudge.input(ingress, "vap-export", "alice");
        const vap = vapDenies(set, input);
        if (vap !== judge.denies("ingress-host", input))
          disagreements.push(`set ${v} ${JSON.stringify(spec)}: vap ${vap}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("matches only what the enforce webhook of deploy/base sends Tollgate", () => {
    const webhook = parse(
      readFileSync(new URL("deploy/base/webhooks/validating-enforce.yaml", REPO), "utf8"),
    ) as {
      webhooks: { rules: { apiGroups: string[]; apiVersions: string[]; resources: string[] }[] }[];
    };
    const registered = webhook.webhooks[0]?.rules
      .flatMap((r) =>
        r.resources.map((res) => `${r.apiGroups.join()}/${r.apiVersions.join()}/${res}`),
      )
      .filter((r) => !r.includes("/pods/ephemeralcontainers") && !r.includes("rollouts"))
      .sort();
    const ours = Object.values(ENFORCED_RESOURCES)
      .map((r) => `${r.group}/${r.versions.join()}/${r.resource}`)
      .sort();
    expect(ours).toEqual(registered);
  });

  it.each([
    ["deploy/base/policyset.yaml", "deploy/base/webhooks/validating-enforce.yaml", []],
    [
      "deploy/components/opt-in/policyset.yaml",
      "deploy/base/webhooks/validating-enforce.yaml",
      [{ key: "tollgate.dev/mode", operator: "In", values: ["enforce"] }],
    ],
  ] as const)(
    "binds with the enforce webhook's namespaceSelector for %s",
    (config, webhookFile, optIn) => {
      const webhook = parse(readFileSync(new URL(webhookFile, REPO), "utf8")) as {
        webhooks: { namespaceSelector: { matchExpressions: object[] } }[];
      };
      const selector = structuredClone(webhook.webhooks[0]?.namespaceSelector);
      // The opt-in component replaces the second term (deploy/components/opt-in/kustomization.yaml).
      if (selector && optIn[0]) selector.matchExpressions[1] = optIn[0];
      const out = exportOf(resolvedOf(config));
      const bindings = out.objects.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding");
      expect(bindings.length).toBe(out.exported.length);
      for (const b of bindings) {
        expect((b.spec as { matchResources: unknown }).matchResources).toEqual({
          namespaceSelector: selector,
        });
      }
      expect(enforcedNamespaceSelector(resolvedOf(config))).toEqual(selector);
    },
  );
});

describe("tollgate policies -o vap on the Pod Security Standards fixtures", () => {
  let fixtures: PssFixture[];
  beforeAll(() => {
    fixtures = loadPssFixtures().fixtures;
  }, 600_000);

  it("decides every fixture as the engine does, policy by policy", () => {
    const disagreements: string[] = [];
    let judged = 0;
    for (const fixture of fixtures) {
      for (const id of exported.exported) {
        const { engine, vap } = judge(id, fixture.object);
        judged++;
        if (engine !== vap) {
          disagreements.push(
            `${fixture.level}/${fixture.expected}/${fixture.file} ${id}: engine ${engine}, vap ${vap}`,
          );
        }
      }
    }
    expect(fixtures.length).toBeGreaterThan(100);
    expect(judged).toBe(fixtures.length * exported.exported.length);
    expect(disagreements).toEqual([]);
  });
});
