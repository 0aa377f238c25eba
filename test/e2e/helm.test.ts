// `helm install --dry-run=server` of charts/tollgate against the real API
// server: every object the chart renders passes the server's own validation
// and admission (schemas, the ValidatingAdmissionPolicies' CEL, Tollgate's
// webhooks). Not a real install: the chart's webhook configurations have the
// names the suite's own registration uses, and replacing them would point the
// API server at a Service with no pods. Those objects were made by kubectl, so
// the dry run needs --take-ownership, as a move from `kubectl apply -k` to
// Helm does (docs/deploy.md). The chart's objects equal deploy/'s
// (test/deploy/helm.test.ts), which the rest of the suite applies for real.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CHART, tool } from "../deploy/helm.js";
import { cluster } from "./support/cluster.js";

function helmInstallDryRun(set: string[], takeOwnership = true) {
  const args = [
    "install",
    "tollgate",
    CHART,
    "--dry-run=server",
    "--kubeconfig",
    cluster().kubeconfig,
  ];
  // The suite's registration (kubectl apply of deploy/) owns the webhook names.
  if (takeOwnership) args.push("--take-ownership");
  for (const pair of set) args.push("--set", pair);
  const result = spawnSync(tool("helm"), args, {
    encoding: "utf8",
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: "/nonexistent",
      HELM_CACHE_HOME: "/tmp/tollgate-helm-cache",
    },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("helm install of charts/tollgate on the e2e API server", () => {
  it.each([
    ["defaults (cluster-wide, self-managed certificates)", []],
    ["opt-in", ["mode=opt-in"]],
    ["background audit and the AKS profile", ["backgroundAudit.enabled=true", "aks.enabled=true"]],
  ])("%s: the API server accepts every object", (_name, set) => {
    const result = helmInstallDryRun(set);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("STATUS: pending-install");
    for (const kind of [
      "Deployment",
      "ValidatingWebhookConfiguration",
      "ValidatingAdmissionPolicy",
    ]) {
      expect(result.output).toContain(`kind: ${kind}`);
    }
  });

  it("will not take over objects kubectl apply -k created unless told to", () => {
    const result = helmInstallDryRun([], false);
    expect(result.status).not.toBe(0);
    // Helm names the first object it meets that kubectl made: the namespace or a
    // webhook configuration, depending on which suites ran before this one.
    expect(result.output).toMatch(
      /(Namespace "tollgate-system"|WebhookConfiguration "tollgate[^"]*") in namespace "[^"]*" exists and cannot be imported into the current release: invalid ownership metadata/,
    );
  });

  it("refuses a wrong value before the API server sees anything", () => {
    const result = helmInstallDryRun(["replicas=1"]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("/replicas");
  });
});
