// Tollgate's own manifests pass Tollgate's own policies: every object rendered
// from the in-cluster overlays goes through the engine in enforce mode, with the
// policy set from the rendered ConfigMap and every policy registered when the
// test runs. tollgate-system is exempt from evaluation (and from the webhooks),
// so its objects are judged as if they lived in another namespace.
import { describe, expect, it } from "vitest";
import {
  evaluate,
  inputFromObject,
  type KubeObject,
  type Verdict,
} from "../../src/engine/index.js";
import type { ResolvedPolicySet } from "../../src/policyset/index.js";
import { find, loadRenderedPolicySet, render } from "./render.js";

const CHECK_NAMESPACE = "tollgate-check";

function relocated(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  if (copy.metadata?.namespace === "tollgate-system") copy.metadata.namespace = CHECK_NAMESPACE;
  return copy;
}

function judge(object: KubeObject, resolved: ResolvedPolicySet): Verdict {
  return evaluate(inputFromObject(object), resolved.set, { mode: "enforce", phase: "both" });
}

function label(object: KubeObject): string {
  return `${object.kind}/${object.metadata?.name}`;
}

describe.each([
  "overlays/cluster-wide",
  "overlays/opt-in",
  "overlays/cert-manager",
  "overlays/cluster-wide-audit",
])("%s", (overlay) => {
  const objects = render(overlay);
  const resolved = loadRenderedPolicySet(objects, `${overlay}-self`);
  const cases = objects.map((o) => [label(o), relocated(o)] as const);

  it.each(cases)("%s has no violation of any action", (_name, object) => {
    const verdict = judge(object, resolved);
    expect(verdict.violations.map((v) => `${v.policy} (${v.action}): ${v.message}`)).toEqual([]);
    expect(verdict.allowed).toBe(true);
  });

  it.each(cases)("%s needs no mutation", (_name, object) => {
    const verdict = judge(object, resolved);
    expect({ mutatedBy: verdict.mutatedBy, patch: verdict.patch }).toEqual({
      mutatedBy: [],
      patch: [],
    });
  });

  it("judged the Deployment with every enabled policy that matches Deployments", () => {
    const deployment = relocated(find(objects, "Deployment", "tollgate"));
    const expected = resolved.policies
      .filter((p) => p.declaration.enabled)
      .filter((p) => p.declaration.match.kinds.some((k) => k === "Deployment" || k === "*"))
      .map((p) => p.declaration.id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect([...judge(deployment, resolved).evaluated].sort()).toEqual(expected);
  });
});

describe("the harness", () => {
  const objects = render("overlays/cluster-wide");
  const resolved = loadRenderedPolicySet(objects, "harness");

  it("skips tollgate-system, which is why objects are relocated", () => {
    const deployment = find(objects, "Deployment", "tollgate");
    expect(judge(deployment, resolved).evaluated).toEqual([]);
  });

  it("would catch a non-compliant Tollgate Deployment", () => {
    const deployment = relocated(find(objects, "Deployment", "tollgate"));
    const spec = deployment.spec as {
      template: { spec: { containers: { securityContext: Record<string, unknown> }[] } };
    };
    const container = spec.template.spec.containers[0];
    if (!container) throw new Error("no container");
    container.securityContext.privileged = true;
    const verdict = judge(deployment, resolved);
    expect(verdict.violations.some((v) => v.policy === "privileged" && v.action === "deny")).toBe(
      true,
    );
    expect(verdict.allowed).toBe(false);
  });
});
