// Tollgate down: only the enforce webhook fails closed. The exempt namespaces,
// and warn and audit namespaces, keep working; deletes are never intercepted;
// a restart on the same port and certificate brings everything back with no
// other step. Tollgate is always started again, even when an assertion fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cluster, isLocal, localCluster, readOrUndefined } from "./support/cluster.js";
import { apply, denialOf, expectSuccess, kubectl, warningsOf } from "./support/kubectl.js";
import { AuditLog } from "./support/logs.js";
import { compliantDeployment, compliantPod, privileged, withPodSpec } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace, uniqueName } from "./support/namespaces.js";
import { startTollgate, stopTollgate, tollgatePid } from "./support/tollgate.js";

describe.runIf(isLocal())("Tollgate down (its process stopped)", () => {
  let enforced: string;
  let warned: string;
  let audited: string;

  beforeAll(async () => {
    enforced = await createNamespace("outage");
    warned = await createNamespace("outage", "warn");
    audited = await createNamespace("outage", "audit");
    // Created while Tollgate is up, deleted while it is down.
    expectSuccess(await apply(compliantDeployment("survivor", enforced)), "apply");
    await stopTollgate();
    expect(tollgatePid()).toBeUndefined();
  });

  afterAll(async () => {
    try {
      if (tollgatePid() === undefined) await startTollgate();
    } finally {
      await cleanupNamespaces();
    }
  });

  it("kube-system and tollgate-system keep working", async () => {
    const namespaces = await kubectl(["get", "namespace", "tollgate-system", "-o", "name"]);
    if (namespaces.code !== 0) {
      expectSuccess(await kubectl(["create", "namespace", "tollgate-system"]), "create namespace");
    }
    for (const namespace of ["kube-system", "tollgate-system"]) {
      const name = uniqueName("outage");
      expectSuccess(
        await kubectl(["create", "configmap", name, "-n", namespace, "--from-literal=k=v"]),
        `create configmap in ${namespace}`,
      );
      // Even a privileged pod: these namespaces are never sent to Tollgate.
      const result = expectSuccess(
        await apply(privileged(compliantPod(name, namespace))),
        `apply pod in ${namespace}`,
      );
      expect(result.stdout.trim()).toBe(`pod/${name} created`);
      await api().core.deleteNamespacedPod({ name, namespace });
      await api().core.deleteNamespacedConfigMap({ name, namespace });
    }
  });

  it("warn and audit namespaces keep admitting (fail open)", async () => {
    const audit = cluster().auditLog ? new AuditLog() : undefined;
    for (const namespace of [warned, audited]) {
      const result = expectSuccess(
        await apply(privileged(compliantDeployment("web", namespace))),
        `apply in ${namespace}`,
      );
      expect(result.stdout.trim()).toBe("deployment.apps/web created");
      expect(warningsOf(result)).toEqual([]);
    }
    if (audit) {
      // The API server records that it admitted without asking Tollgate.
      const event = await audit.waitFor({
        verb: "create",
        resource: "deployments",
        namespace: audited,
        name: "web",
      });
      const failedOpen = Object.entries(event.annotations ?? {}).filter(([key]) =>
        key.startsWith("failed-open.validating.webhook.admission.k8s.io/"),
      );
      expect(failedOpen.map(([, webhook]) => webhook)).toEqual(["audit.tollgate.dev"]);
    }
  });

  it("an enforced namespace refuses with the API server's failed-calling-webhook error (fail closed)", async () => {
    const { webhookPort } = localCluster();
    const result = await apply(compliantDeployment("blocked", enforced));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Internal error occurred: failed calling webhook "enforce.tollgate.dev": failed to call webhook: Post "https://127.0.0.1:${webhookPort}/validate/enforce?timeout=5s"`,
    );
    expect(result.stderr).toContain("connect: connection refused");
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "blocked", namespace: enforced }),
    );
    expect(stored).toBeUndefined();
  });

  it("deletes are not intercepted: a Deployment in an enforced namespace is deleted", async () => {
    const result = expectSuccess(
      await kubectl(["delete", "deployment", "survivor", "-n", enforced, "--wait=false"]),
      "kubectl delete",
    );
    expect(result.stdout).toMatch(/^deployment\.apps "survivor" deleted/);
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "survivor", namespace: enforced }),
    );
    expect(stored).toBeUndefined();
  });

  it("after a restart on the same port and certificate, everything works again with no other step", async () => {
    await startTollgate();
    expect(tollgatePid()).toBeDefined();

    // The very first request after the restart: no retry, no re-registration.
    const denied = await apply(privileged(compliantDeployment("web", enforced)));
    expect(denied.code).toBe(1);
    expect(denialOf(denied)).toMatch(/^- privileged: Deployment "web" container "app": /m);

    const unset = withPodSpec(compliantDeployment("good", enforced), (spec) => {
      delete spec.automountServiceAccountToken;
    });
    expectSuccess(await apply(unset), "apply");
    const stored = await api().apps.readNamespacedDeployment({ name: "good", namespace: enforced });
    expect(stored.spec?.template.spec?.automountServiceAccountToken).toBe(false);

    const warnedAgain = expectSuccess(
      await apply(privileged(compliantDeployment("again", warned))),
      "apply in warn namespace",
    );
    expect(warningsOf(warnedAgain).some((w) => w.startsWith("privileged: "))).toBe(true);
  });
});
