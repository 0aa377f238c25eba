// The mutating webhook in an enforced namespace: defaults are filled in before
// the validating webhook judges the object, and a compliant object is stored
// exactly as sent.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cluster, isLocal } from "./support/cluster.js";
import { apply, expectSuccess } from "./support/kubectl.js";
import { AuditLog, DecisionLog } from "./support/logs.js";
import { compliantDeployment, compliantPod, withPodSpec } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";

const MUTATION_ANNOTATION = "mutation.webhook.admission.k8s.io/round_0_index_0";

let ns: string;
let audit: AuditLog | undefined;
let decisions: DecisionLog | undefined;

beforeAll(async () => {
  ns = await createNamespace("mutation");
  audit = cluster().auditLog ? new AuditLog() : undefined;
  decisions = isLocal() ? new DecisionLog() : undefined;
});
afterAll(cleanupNamespaces);

/** What the API server recorded about Tollgate's mutating call for this create. */
async function mutationRecord(resource: string, name: string) {
  if (!audit) return undefined;
  const event = await audit.waitFor({ verb: "create", resource, namespace: ns, name });
  const record = event.annotations?.[MUTATION_ANNOTATION];
  return record === undefined ? undefined : (JSON.parse(record) as Record<string, unknown>);
}

describe("mutation in an enforced namespace", () => {
  it("stores a Pod created without automountServiceAccountToken with it set to false", async () => {
    const pod = withPodSpec(compliantPod("no-token", ns), (spec) => {
      delete spec.automountServiceAccountToken;
    });
    await api().core.createNamespacedPod({ namespace: ns, body: pod });

    const stored = await api().core.readNamespacedPod({ name: "no-token", namespace: ns });
    expect(stored.spec?.automountServiceAccountToken).toBe(false);
    expect(await mutationRecord("pods", "no-token")).toEqual({
      configuration: "tollgate",
      webhook: "mutate.tollgate.dev",
      mutated: true,
    });
    if (decisions) {
      const decision = await decisions.waitFor({
        phase: "mutate",
        namespace: ns,
        name: "no-token",
      });
      expect(decision.patched).toEqual(["service-account-token"]);
    }
  });

  it("fills in the security defaults first, so a Pod missing only them is admitted", async () => {
    const pod: V1Pod = withPodSpec(compliantPod("bare", ns), (spec) => {
      delete spec.automountServiceAccountToken;
      // A numbered non-root user, so runAsNonRoot cannot keep the pod from starting.
      spec.securityContext = { runAsUser: 10001 };
      for (const c of spec.containers) c.securityContext = { readOnlyRootFilesystem: true };
    });
    expectSuccess(await apply(pod), "kubectl apply");

    const stored = await api().core.readNamespacedPod({ name: "bare", namespace: ns });
    expect(stored.spec?.securityContext).toEqual({
      runAsUser: 10001,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(stored.spec?.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
    });
    expect(stored.spec?.automountServiceAccountToken).toBe(false);
    if (decisions) {
      const decision = await decisions.waitFor({ phase: "mutate", namespace: ns, name: "bare" });
      expect(decision.patched).toEqual(["security-defaults", "service-account-token"]);
    }
  });

  it("stores a compliant Deployment unchanged: no patch, and every field read back as sent", async () => {
    const sent: V1Deployment = compliantDeployment("complete", ns);
    const result = expectSuccess(await apply(sent), "kubectl apply");
    expect(result.stderr).toBe("");

    const stored = await api().apps.readNamespacedDeployment({ name: "complete", namespace: ns });
    // The API server adds defaults (protocol, probe timings, strategy...);
    // every field that was sent must come back with the value sent.
    expect(stored.spec).toMatchObject(structuredClone(sent.spec) as object);
    expect(stored.metadata?.labels).toEqual(sent.metadata?.labels);
    expect(await mutationRecord("deployments", "complete")).toEqual({
      configuration: "tollgate",
      webhook: "mutate.tollgate.dev",
      mutated: false,
    });
    if (decisions) {
      const decision = await decisions.waitFor({
        phase: "mutate",
        namespace: ns,
        name: "complete",
      });
      expect(decision).toMatchObject({ mode: "enforce", decision: "allowed", patched: [] });
    }
  });
});
