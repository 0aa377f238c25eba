// Workload kinds beyond the built-in ones: the shipped PolicySet's
// workloadKinds names Argo Rollouts, and deploy/ registers them with the
// webhooks. A minimal Rollout CRD of the suite's own (a permissive schema, no
// Argo controller) is enough for the real API server to send Rollouts to
// Tollgate: a privileged one from docker.io is denied, a compliant one is
// admitted with the mutations applied to its pod template.
import { ApiextensionsV1Api, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeConfig } from "./support/cluster.js";
import { apply, denialOf, expectSuccess, kubectl } from "./support/kubectl.js";
import { compliantPodSpec, UNTRUSTED_IMAGE } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";
import { installCrds } from "./support/report-crds.js";

const ROLLOUT_CRD: V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "rollouts.argoproj.io" },
  spec: {
    group: "argoproj.io",
    scope: "Namespaced",
    names: { kind: "Rollout", plural: "rollouts", singular: "rollout", listKind: "RolloutList" },
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: { spec: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
          },
        },
      },
    ],
  },
};

let ns: string;

beforeAll(async () => {
  await installCrds([ROLLOUT_CRD]);
  ns = await createNamespace("rollouts");
});
afterAll(async () => {
  await cleanupNamespaces();
  await kubeConfig()
    .makeApiClient(ApiextensionsV1Api)
    .deleteCustomResourceDefinition({ name: "rollouts.argoproj.io" })
    .catch(() => undefined);
});

/** The compliant test workload as a Rollout with a canary strategy, and its pod spec. */
function rollout(name: string) {
  const spec = compliantPodSpec(name);
  const labels = { "app.kubernetes.io/name": name };
  const object = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { canary: { steps: [{ setWeight: 20 }] } },
      template: { metadata: { labels }, spec },
    },
  };
  return { object, spec };
}

describe("workloadKinds: Argo Rollouts through the real API server", () => {
  it("denies a privileged Rollout from docker.io, naming the template's fields", async () => {
    const bad = rollout("privileged");
    const container = bad.spec.containers[0];
    if (!container) throw new Error("no container");
    container.image = UNTRUSTED_IMAGE;
    container.securityContext = { ...container.securityContext, privileged: true };
    const result = await apply(bad.object);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('admission webhook "enforce.tollgate.dev" denied the request');
    const denial = denialOf(result) ?? "";
    expect(denial).toMatch(
      /^- privileged: Rollout "privileged" container "app": runs privileged; .* \(field spec\.template\.spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );
    expect(denial).toMatch(
      /^- trusted-registry: Rollout "privileged" container "app": .*from docker\.io,.* \(field spec\.template\.spec\.containers\[0\]\.image\)$/m,
    );
    const stored = await kubectl(["get", "rollouts.argoproj.io", "-n", ns, "privileged"]);
    expect(stored.code).toBe(1);
  });

  it("admits a compliant Rollout, with the mutating webhook's patches in its template", async () => {
    const good = rollout("compliant");
    delete good.spec.automountServiceAccountToken;
    expectSuccess(await apply(good.object), "apply compliant Rollout");
    const got = await kubectl([
      "get",
      "rollouts.argoproj.io",
      "-n",
      ns,
      "compliant",
      "-o",
      "jsonpath={.spec.template.spec.automountServiceAccountToken}",
    ]);
    expectSuccess(got, "read Rollout");
    expect(got.stdout.trim()).toBe("false");
  });
});
