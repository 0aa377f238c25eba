// Opt-in mode: the webhooks re-registered with the shipped opt-in component's
// selectors (deploy/overlays/localhost-opt-in). Unlabelled namespaces are not
// sent to Tollgate; tollgate.dev/mode=enforce ones are enforced. The
// cluster-wide registration is restored afterwards, whatever happened.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { api, cluster, isLocal } from "./support/cluster.js";
import { REPO } from "./support/env.js";
import { apply, denialOf, expectSuccess, warningsOf } from "./support/kubectl.js";
import { DecisionLog } from "./support/logs.js";
import { compliantDeployment, privileged, withPodSpec } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";
import { registerWebhooks, renderWebhooks } from "./support/tollgate.js";

interface Webhook {
  name: string;
  namespaceSelector?: unknown;
  clientConfig: { url?: string };
}

function webhooksOf(yamlText: string): Webhook[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as { webhooks?: Webhook[] } | null)
    .flatMap((o) => o?.webhooks ?? []);
}

/** A violating Deployment that also lacks automountServiceAccountToken (a mutation target). */
function violating(name: string, namespace: string) {
  return withPodSpec(privileged(compliantDeployment(name, namespace)), (spec) => {
    delete spec.automountServiceAccountToken;
  });
}

describe.runIf(isLocal())("opt-in registration (deploy/overlays/localhost-opt-in)", () => {
  let probe: string;

  beforeAll(async () => {
    probe = await createNamespace("opt-in");
    await registerWebhooks("localhost-opt-in", probe);
  });

  afterAll(async () => {
    try {
      await registerWebhooks("localhost", probe);
    } finally {
      await cleanupNamespaces();
    }
  });

  it("registers the shipped opt-in selectors", async () => {
    // Same selectors as the in-cluster opt-in overlay, only the clientConfig differs.
    const inCluster = execFileSync(
      cluster().kubectl,
      ["kustomize", `${REPO}deploy/overlays/opt-in`],
      { encoding: "utf8" },
    );
    const expected = Object.fromEntries(
      webhooksOf(inCluster).map((w) => [w.name, w.namespaceSelector]),
    );
    const rendered = webhooksOf(await renderWebhooks("localhost-opt-in"));
    expect(Object.fromEntries(rendered.map((w) => [w.name, w.namespaceSelector]))).toEqual(
      expected,
    );
    expect(rendered.map((w) => w.clientConfig.url)).toEqual(
      rendered.map(() =>
        expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/(validate|mutate|guard)\//),
      ),
    );
  });

  it("leaves an unlabelled namespace alone: a violating workload is admitted and not mutated", async () => {
    const ns = await createNamespace("opt-in");
    const decisions = new DecisionLog();
    const result = expectSuccess(await apply(violating("web", ns)), "kubectl apply");

    expect(result.stdout.trim()).toBe("deployment.apps/web created");
    expect(warningsOf(result)).toEqual([]);
    const stored = await api().apps.readNamespacedDeployment({ name: "web", namespace: ns });
    expect(stored.spec?.template.spec?.automountServiceAccountToken).toBeUndefined();
    expect(stored.spec?.template.spec?.containers[0]?.securityContext?.privileged).toBe(true);
    // Not even sent: a later request's decision is logged, none about this namespace.
    const marker = await createNamespace("opt-in", "enforce");
    expectSuccess(await apply(compliantDeployment("marker", marker), "--dry-run=server"), "mark");
    await decisions.waitFor({ phase: "validate", namespace: marker, name: "marker" });
    expect(decisions.inNamespace(ns)).toEqual([]);
  });

  it("enforces a namespace labelled tollgate.dev/mode=enforce: denies and mutates", async () => {
    const ns = await createNamespace("opt-in", "enforce");

    const denied = await apply(violating("web", ns));
    expect(denied.code).toBe(1);
    expect(denialOf(denied)).toMatch(
      /^- privileged: Deployment "web" container "app": runs privileged; .* \(field spec\.template\.spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );

    const compliant = withPodSpec(compliantDeployment("good", ns), (spec) => {
      delete spec.automountServiceAccountToken;
    });
    expectSuccess(await apply(compliant), "kubectl apply");
    const stored = await api().apps.readNamespacedDeployment({ name: "good", namespace: ns });
    expect(stored.spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });
});
