// `tollgate policies -o vap`, offline: the generated ValidatingAdmissionPolicies
// load in Tollgate's VAP evaluator (whose CEL environment refuses what the API
// server's does) and decide every example and Pod Security Standards fixture
// as the engine does. test/e2e/vap-export.test.ts proves the same against the
// real API server.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  compilePolicySet,
  evaluate,
  inputFromObject,
  type KubeObject,
} from "../../src/engine/index.js";
import { DEFAULT_CAPABILITIES, SAFE_SYSCTLS } from "../../src/engine/kit/index.js";
import { loadPolicySetFile, type ResolvedPolicySet } from "../../src/policyset/index.js";
import { ENFORCED_RESOURCES, enforcedNamespaceSelector, exportVaps } from "../../src/vap/export.js";
import { readVapForm } from "../../src/vap/forms.js";
import { evaluateVaps, loadVapSet } from "../../src/vap/index.js";
import { exampleObjects, objectOf, shippedPolicies } from "../support/policies.js";
import { loadPssFixtures, type PssFixture } from "../support/pss.js";

const REPO = new URL("../../", import.meta.url);

function resolvedOf(config?: string): ResolvedPolicySet {
  return loadPolicySetFile(shippedPolicies(), config ? new URL(config, REPO).pathname : undefined);
}

const resolved = resolvedOf();
const exported = exportVaps(resolved, (p) => readVapForm(p.file));

/** The VAP and binding of one policy, loaded as `tollgate test --policies` would. */
function vapSetOf(id: string) {
  const objects = exported.objects.filter(
    (o) => (o.metadata?.labels as Record<string, string>)?.["tollgate.dev/policy"] === id,
  );
  expect(objects.map((o) => o.kind)).toEqual([
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
  ]);
  const { set, problems } = loadVapSet(objects.map((object) => ({ object, where: id })));
  expect(problems).toEqual([]);
  return set;
}

const sets = new Map(exported.exported.map((id) => [id, vapSetOf(id)]));
const engines = new Map(
  exported.exported.map((id) => [
    id,
    compilePolicySet(
      resolved.policies.filter((p) => p.declaration.id === id),
      resolved.settings.exemptNamespaces,
      resolved.workloadKinds,
    ),
  ]),
);

interface Judged {
  engine: boolean;
  vap: boolean;
  messages: string[];
}

/** Kinds the enforce webhook sends Tollgate; in a cluster the engine judges nothing else. */
const SENT = new Set([
  ...Object.keys(ENFORCED_RESOURCES),
  ...resolved.workloadKinds.map((w) => w.kind),
]);

/**
 * Whether the engine, behind the enforce webhook, and the policy's VAP deny
 * this object on CREATE, as `username` sends it.
 */
function judge(id: string, written: KubeObject, username = "alice"): Judged {
  const input = inputFromObject(written, { namespace: "vap-export" });
  input.userInfo = { username, groups: ["system:authenticated"] };
  const engineSet = engines.get(id);
  const vapSet = sets.get(id);
  if (!engineSet || !vapSet) throw new Error(`${id} is not exported`);
  const verdict = evaluate(input, engineSet, { mode: "enforce", phase: "validate" });
  const decisions = evaluateVaps(vapSet, {
    object: input.object as KubeObject,
    oldObject: undefined,
    operation: "CREATE",
    namespace: input.namespace,
    clusterScoped: false,
    userInfo: { username, groups: ["system:authenticated"] },
  });
  return {
    engine: SENT.has(input.kind.kind) && !verdict.allowed,
    vap: decisions.some((d) => d.actions.includes("Deny")),
    messages: decisions.map((d) => d.message),
  };
}

describe("tollgate policies -o vap, offline", () => {
  it("exports every shipped deny policy that has an exact CEL form, and names the others with a reason", () => {
    const deny = shippedPolicies()
      .filter((p) => p.declaration.type === "validate" && p.declaration.action === "deny")
      .map((p) => p.declaration.id);
    expect([...exported.exported, ...exported.notExported.map((n) => n.id)].sort()).toEqual(
      deny.sort(),
    );
    expect(exported.exported.length).toBeGreaterThanOrEqual(17);
    for (const { reason } of exported.notExported) expect(reason).not.toContain("\n");
    expect(exported.notExported.map((n) => n.id)).toContain("secret-env");
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
        const deny = i >= pass.length && SENT.has(o.kind ?? "");
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
      const out = exportVaps(resolvedOf(config), (p) => readVapForm(p.file));
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
