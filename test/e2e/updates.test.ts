// UPDATE is judged like CREATE (a violation it introduces is refused); DELETE
// is never intercepted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, isLocal, readOrUndefined } from "./support/cluster.js";
import { apply, denialOf, expectSuccess, kubectl } from "./support/kubectl.js";
import { DecisionLog } from "./support/logs.js";
import { compliantDeployment, privileged } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";

let ns: string;

beforeAll(async () => {
  ns = await createNamespace("updates");
});
afterAll(cleanupNamespaces);

describe("updates and deletes in an enforced namespace", () => {
  it("denies an UPDATE that introduces a violation, and keeps the stored object", async () => {
    expectSuccess(await apply(compliantDeployment("web", ns)), "first apply");

    const result = await apply(privileged(compliantDeployment("web", ns)));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /error when patching "STDIN": admission webhook "enforce\.tollgate\.dev" denied the request: /,
    );
    expect(denialOf(result)).toMatch(
      /^- privileged: Deployment "web" container "app": runs privileged; .* \(field spec\.template\.spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );
    const stored = await api().apps.readNamespacedDeployment({ name: "web", namespace: ns });
    const context = stored.spec?.template.spec?.containers[0]?.securityContext;
    expect(context?.privileged).toBeUndefined();
    expect(context?.allowPrivilegeEscalation).toBe(false);
    expect(stored.metadata?.generation).toBe(1);
  });

  it("admits a compliant UPDATE", async () => {
    const scaled = compliantDeployment("web", ns);
    if (scaled.spec) scaled.spec.replicas = 3;
    const result = expectSuccess(await apply(scaled), "apply");
    expect(result.stdout.trim()).toBe("deployment.apps/web configured");
    const stored = await api().apps.readNamespacedDeployment({ name: "web", namespace: ns });
    expect(stored.spec?.replicas).toBe(3);
  });

  it("never blocks a DELETE: Tollgate is not even asked", async () => {
    expectSuccess(await apply(compliantDeployment("doomed", ns)), "apply");
    const decisions = isLocal() ? new DecisionLog() : undefined;

    const result = expectSuccess(
      await kubectl(["delete", "deployment", "doomed", "-n", ns, "--wait=false"]),
      "kubectl delete",
    );
    expect(result.stdout).toMatch(/^deployment\.apps "doomed" deleted/);
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "doomed", namespace: ns }),
    );
    expect(stored).toBeUndefined();
    if (decisions) {
      // A later request's decision in the log means a DELETE call would be there too.
      // Only DELETEs count: the create's decisions, written in a batch, can
      // reach the log after the cursor was made (docs/server.md#logs).
      expectSuccess(await apply(compliantDeployment("marker", ns), "--dry-run=server"), "mark");
      await decisions.waitFor({ phase: "validate", namespace: ns, name: "marker" });
      const deletes = decisions.about(ns, "doomed").filter((d) => d.operation === "DELETE");
      expect(deletes).toEqual([]);
    }
  });
});
