// Server-side dry-run: the webhooks run exactly as for a real request
// (sideEffects: None allows it), and nothing is stored.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, isLocal, readOrUndefined } from "./support/cluster.js";
import { apply, denialOf, expectSuccess } from "./support/kubectl.js";
import { DecisionLog } from "./support/logs.js";
import { compliantDeployment, privileged } from "./support/manifests.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";

let ns: string;

beforeAll(async () => {
  ns = await createNamespace("dry-run");
});
afterAll(cleanupNamespaces);

describe("server-side dry-run", () => {
  it("denies kubectl apply --dry-run=server exactly like the real apply", async () => {
    const decisions = isLocal() ? new DecisionLog() : undefined;
    const violating = privileged(compliantDeployment("web", ns));

    const dryRun = await apply(violating, "--dry-run=server");
    const real = await apply(violating);

    expect(dryRun.code).toBe(1);
    expect(real.code).toBe(1);
    expect(denialOf(dryRun)).toMatch(/^\d+ AKS checklist violations? must be fixed:\n- /);
    expect(denialOf(dryRun)).toBe(denialOf(real));
    // Warnings and the error line too: the whole answer is the same.
    expect(dryRun.stderr).toBe(real.stderr);
    if (decisions) {
      const calls = () =>
        decisions
          .about(ns, "web")
          .filter((d) => d.phase === "validate")
          .map((d) => ({ dryRun: d.dryRun, decision: d.decision }));
      await vi.waitFor(() =>
        expect(calls()).toEqual([
          { dryRun: true, decision: "denied" },
          { dryRun: false, decision: "denied" },
        ]),
      );
    }
  });

  it("persists nothing: a compliant dry-run create leaves no object", async () => {
    const result = expectSuccess(
      await apply(compliantDeployment("kept-out", ns), "--dry-run=server"),
      "kubectl apply --dry-run=server",
    );
    expect(result.stdout.trim()).toBe("deployment.apps/kept-out created (server dry run)");
    const stored = await readOrUndefined(() =>
      api().apps.readNamespacedDeployment({ name: "kept-out", namespace: ns }),
    );
    expect(stored).toBeUndefined();
  });
});
