// Namespaces that only report: tollgate.dev/mode=warn answers with warnings
// kubectl prints, tollgate.dev/mode=audit with annotations in the API server's
// audit log; neither refuses nor changes anything. mode=off is not even sent.
import { afterAll, describe, expect, it } from "vitest";
import { api, cluster, isLocal } from "./support/cluster.js";
import { apply, expectSuccess, warningsOf } from "./support/kubectl.js";
import { AuditLog, DecisionLog } from "./support/logs.js";
import { compliantDeployment, privileged } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";

afterAll(cleanupNamespaces);

const PRIVILEGED_MESSAGE =
  'Deployment "web" container "app": runs privileged; remove securityContext.privileged or set it to false';

describe("warn mode (tollgate.dev/mode=warn)", () => {
  it("admits a violating Deployment, and kubectl prints Tollgate's warnings", async () => {
    const ns = await createNamespace("modes", "warn");
    const result = expectSuccess(await apply(privileged(compliantDeployment("web", ns))), "apply");

    expect(result.stdout.trim()).toBe("deployment.apps/web created");
    const warnings = warningsOf(result);
    expect(warnings).toContain(`privileged: ${PRIVILEGED_MESSAGE}`);
    expect(warnings.some((w) => w.startsWith("privilege-escalation: "))).toBe(true);
    // Nothing is changed behind the author's back: no mutation in warn mode.
    const stored = await api().apps.readNamespacedDeployment({ name: "web", namespace: ns });
    const spec = stored.spec?.template.spec;
    expect(spec?.containers[0]?.securityContext?.privileged).toBe(true);
    expect(spec?.containers[0]?.securityContext?.allowPrivilegeEscalation).toBeUndefined();
  });
});

describe("audit mode (tollgate.dev/mode=audit)", () => {
  it.runIf(cluster().auditLog !== undefined)(
    "admits a violating Deployment, and Tollgate's audit annotations reach the API server's audit log",
    async () => {
      const ns = await createNamespace("modes", "audit");
      const audit = new AuditLog();
      const result = expectSuccess(
        await apply(privileged(compliantDeployment("web", ns))),
        "apply",
      );

      expect(result.stdout.trim()).toBe("deployment.apps/web created");
      expect(warningsOf(result)).toEqual([]);
      const event = await audit.waitFor({
        verb: "create",
        resource: "deployments",
        namespace: ns,
        name: "web",
      });
      expect(event.responseStatus?.code).toBe(201);
      expect(event.annotations?.["audit.tollgate.dev/privileged"]).toBe(PRIVILEGED_MESSAGE);
      expect(event.annotations?.["audit.tollgate.dev/privilege-escalation"]).toMatch(
        /^Deployment "web" container "app": leaves allowPrivilegeEscalation unset/,
      );
      // Only the audit webhook was called: nothing was mutated.
      expect(Object.keys(event.annotations ?? {}).filter((k) => k.startsWith("mutation."))).toEqual(
        [],
      );
    },
  );
});

describe("mode off (tollgate.dev/mode=off)", () => {
  it("admits a violating Deployment without calling Tollgate", async () => {
    const ns = await createNamespace("modes", "off");
    const decisions = isLocal() ? new DecisionLog() : undefined;
    const result = expectSuccess(await apply(privileged(compliantDeployment("web", ns))), "apply");

    expect(warningsOf(result)).toEqual([]);
    if (decisions) {
      // Tollgate logs each decision before answering, so once a later
      // request's decision is in the log, this one's would be too.
      const marker = await createNamespace("modes");
      expectSuccess(await apply(compliantDeployment("marker", marker), "--dry-run=server"), "mark");
      await decisions.waitFor({ phase: "validate", namespace: marker, name: "marker" });
      expect(decisions.inNamespace(ns)).toEqual([]);
    }
  });
});
