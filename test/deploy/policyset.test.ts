// The policy set shipped in the ConfigMap: it loads with the policies registered
// right now, and agrees with the webhook selectors and the Deployment.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type PodSpec, parseImage } from "../../src/engine/index.js";
import { isUnderRegistry } from "../../src/engine/kit/index.js";
import { shippedPolicies } from "../support/policies.js";
import { DEPLOY, find, loadRenderedPolicySet, render, webhooksOf } from "./render.js";

describe.each([
  ["base", "enforce"],
  ["overlays/cluster-wide", "enforce"],
  ["overlays/cert-manager", "enforce"],
  ["overlays/opt-in", "off"],
])("%s policy set", (overlay, defaultMode) => {
  const objects = render(overlay);

  it("loads through loadPolicySetFile with every registered policy", () => {
    const resolved = loadRenderedPolicySet(objects, overlay);
    expect(resolved.settings.defaultMode).toBe(defaultMode);
    expect(resolved.policies.length).toBe(shippedPolicies().length);
  });

  it("names the label, namespace and exemptions the webhook selectors use", () => {
    const { settings } = loadRenderedPolicySet(objects, overlay);
    expect(find(objects, "Namespace", settings.tollgateNamespace)).toBeDefined();
    for (const w of webhooksOf(objects)) {
      const keys = (w.namespaceSelector?.matchExpressions ?? []).map((e) => e.key);
      expect(keys, w.name).toContain(settings.modeLabel);
      const byName = w.namespaceSelector?.matchExpressions?.find(
        (e) => e.key === "kubernetes.io/metadata.name",
      );
      expect([...(byName?.values ?? [])].sort(), w.name).toEqual(
        [...settings.exemptNamespaces].sort(),
      );
    }
  });

  it("registers every workloadKind wherever the webhooks register Deployments", () => {
    const { workloadKinds } = loadRenderedPolicySet(objects, overlay);
    expect(workloadKinds.map((k) => `${k.group}/${k.kind}`)).toContain("argoproj.io/Rollout");
    const workloadHooks = webhooksOf(objects).filter((w) =>
      w.rules.some((r) => r.resources.includes("deployments")),
    );
    expect(workloadHooks.length).toBeGreaterThanOrEqual(3);
    for (const w of workloadHooks) {
      const deployments = w.rules.find((r) => r.resources.includes("deployments"));
      for (const kind of workloadKinds) {
        const rule = w.rules.find(
          (r) => r.apiGroups.includes(kind.group) && r.resources.includes(kind.resource),
        );
        expect(rule, `${w.name}: ${kind.group}/${kind.resource}`).toBeDefined();
        expect(rule?.operations, w.name).toEqual(deployments?.operations);
        for (const version of kind.versions) {
          expect(
            rule?.apiVersions.includes(version) || rule?.apiVersions.includes("*"),
            `${w.name}: ${kind.group}/${version}`,
          ).toBe(true);
        }
      }
    }
  });

  it("trusts the registry Tollgate's own image comes from", () => {
    const resolved = loadRenderedPolicySet(objects, overlay);
    const trusted = resolved.policies.find((p) => p.declaration.id === "trusted-registry");
    if (!trusted) return; // not registered in this tree: nothing to trust
    const registries = (trusted.declaration.parameters as { registries: string[] }).registries;
    const pod = (find(objects, "Deployment", "tollgate").spec as { template: { spec: PodSpec } })
      .template.spec;
    for (const container of pod.containers ?? []) {
      const ref = parseImage(container.image ?? "");
      expect(ref).toBeDefined();
      expect(
        registries.some((entry) => ref && isUnderRegistry(ref, entry)),
        container.image,
      ).toBe(true);
    }
  });
});

describe("policy set files", () => {
  it("opt-in's file is the base file with defaultMode off and the mode label unguarded, nothing else", () => {
    const base = parse(readFileSync(`${DEPLOY}base/policyset.yaml`, "utf8"));
    const optIn = parse(readFileSync(`${DEPLOY}components/opt-in/policyset.yaml`, "utf8"));
    expect(base.defaultMode).toBe("enforce");
    expect(optIn.defaultMode).toBe("off");
    // Cluster-wide, the label is the off switch; opt-in, it is how a team opts in.
    expect(base.protectModeLabel).toBe(true);
    expect(base.modeLabelEditors).toEqual({ groups: ["system:masters"] });
    expect(optIn.protectModeLabel).toBeUndefined();
    for (const key of ["defaultMode", "protectModeLabel", "modeLabelEditors"]) {
      delete base[key];
      delete optIn[key];
    }
    expect(optIn).toEqual(base);
  });
});
