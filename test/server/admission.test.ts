import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { labelModeResolver, type ModeResolver } from "../../src/server/mode.js";
import type { NamespaceDirectory } from "../../src/server/namespace-mode.js";
import {
  admit,
  fullPolicySet,
  plainPod,
  policySetOf,
  privilegedDeployment,
  privilegedPod,
  reviewOf,
  testApp,
} from "./support.js";

function directoryOf(labels: Record<string, Record<string, string>>): NamespaceDirectory {
  return {
    labelsOf: async (namespace) => labels[namespace],
    close: () => {},
  };
}

function decodePatch(patch: string | undefined): jsonpatch.Operation[] {
  expect(patch).toBeDefined();
  return JSON.parse(Buffer.from(patch ?? "", "base64").toString("utf8")) as jsonpatch.Operation[];
}

describe("POST /validate", () => {
  it("denies a privileged Deployment, naming the container, the field and the fix", async () => {
    const { app } = testApp();
    const response = await admit(
      app,
      "/validate",
      reviewOf(privilegedDeployment(), { uid: "uid-deny" }),
    );
    expect(response.uid).toBe("uid-deny");
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(403);
    expect(response.status?.status).toBe("Failure");
    const message = response.status?.message ?? "";
    expect(message).toContain('privileged: Deployment "web" container "app": runs privileged');
    expect(message).toContain("set it to false");
    expect(message).toContain("spec.template.spec.containers[1].securityContext.privileged");
    expect(message).not.toContain('container "sidecar"');
    expect(response.auditAnnotations?.privileged).toContain('container "app"');
    expect(response.patch).toBeUndefined();
  });

  it("denies with the full shipped policy set too, listing the privileged container", async () => {
    const { app } = testApp({ policies: fullPolicySet() });
    const response = await admit(app, "/validate", reviewOf(privilegedPod()));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(
      /^- privileged: Pod "shell" container "app": runs privileged.*\(field spec\.containers\[0\]\.securityContext\.privileged\)$/m,
    );
    expect(response.patch).toBeUndefined();
  });

  it("allows a compliant object with a bare response", async () => {
    const { app } = testApp();
    const response = await admit(app, "/validate", reviewOf(plainPod(), { uid: "uid-ok" }));
    expect(response).toEqual({ uid: "uid-ok", allowed: true });
  });

  it("warn mode admits and returns each violation as a short warning", async () => {
    const { app } = testApp();
    for (const url of ["/validate/warn", "/validate?mode=warn"]) {
      const response = await admit(app, url, reviewOf(privilegedPod()));
      expect(response.allowed).toBe(true);
      expect(response.status).toBeUndefined();
      expect(response.warnings).toHaveLength(1);
      expect(response.warnings?.[0]).toMatch(/^privileged: Pod "shell" container "app": runs/);
      for (const warning of response.warnings ?? []) {
        expect([...warning].length).toBeLessThanOrEqual(256);
        expect(warning).not.toMatch(/[\n\r\t]/);
      }
    }
  });

  it("audit mode admits silently and records violations only in audit annotations", async () => {
    const { app, logs } = testApp();
    const response = await admit(app, "/validate/audit", reviewOf(privilegedPod()));
    expect(response.allowed).toBe(true);
    expect(response.warnings).toBeUndefined();
    expect(response.status).toBeUndefined();
    expect(Object.keys(response.auditAnnotations ?? {})).toEqual(["privileged"]);
    const [line] = logs.withMessage("admission decision");
    expect(line).toMatchObject({ mode: "audit", decision: "allowed", policies: ["privileged"] });
  });

  it("answers a dry run exactly like the real request", async () => {
    const { app, logs } = testApp();
    const real = await admit(app, "/validate", reviewOf(privilegedPod(), { dryRun: false }));
    const dry = await admit(app, "/validate", reviewOf(privilegedPod(), { dryRun: true }));
    expect(dry).toEqual(real);
    expect(dry.allowed).toBe(false);
    expect(logs.withMessage("admission decision").map((l) => l.dryRun)).toEqual([false, true]);
  });

  it("off admits without evaluating, from the path, the query or the namespace label", async () => {
    const resolveMode = labelModeResolver(directoryOf({ legacy: { "tollgate.dev/mode": "off" } }));
    const { app, logs } = testApp({ resolveMode });
    for (const [url, namespace] of [
      ["/validate/off", "apps"],
      ["/validate?mode=off", "apps"],
      ["/validate", "legacy"],
    ] as const) {
      const response = await admit(app, url, reviewOf(privilegedPod("p", namespace)));
      expect(response).toEqual({ uid: expect.any(String), allowed: true });
    }
    expect(logs.withMessage("admission decision").map((l) => l.mode)).toEqual([
      "off",
      "off",
      "off",
    ]);
  });

  it("the endpoint's mode wins over the namespace label, which wins over the default", async () => {
    const resolveMode = labelModeResolver(directoryOf({ apps: { "tollgate.dev/mode": "warn" } }));
    const { app } = testApp({ resolveMode });
    expect((await admit(app, "/validate", reviewOf(privilegedPod()))).allowed).toBe(true);
    expect((await admit(app, "/validate/enforce", reviewOf(privilegedPod()))).allowed).toBe(false);
    expect((await admit(app, "/validate?mode=enforce", reviewOf(privilegedPod()))).allowed).toBe(
      false,
    );
    // The path wins when both are given.
    expect(
      (await admit(app, "/validate/warn?mode=enforce", reviewOf(privilegedPod()))).allowed,
    ).toBe(true);
    // A namespace without the label runs in the default mode (enforce).
    expect((await admit(app, "/validate", reviewOf(privilegedPod("p", "other")))).allowed).toBe(
      false,
    );
  });

  it("uses the policy set's modeLabel and defaultMode", async () => {
    const policies = policySetOf(["privileged"], {
      defaultMode: "audit",
      modeLabel: "example.com/admission",
    });
    const resolveMode = labelModeResolver(
      directoryOf({ strict: { "example.com/admission": "enforce", "tollgate.dev/mode": "off" } }),
    );
    const { app } = testApp({ policies, resolveMode });
    expect((await admit(app, "/validate", reviewOf(privilegedPod("a", "strict")))).allowed).toBe(
      false,
    );
    const loose = await admit(app, "/validate", reviewOf(privilegedPod("b", "loose")));
    expect(loose.allowed).toBe(true);
    expect(loose.auditAnnotations?.privileged).toBeDefined();
  });

  it("falls back to the default mode when the namespace lookup fails", async () => {
    const failing: NamespaceDirectory = {
      labelsOf: () => Promise.reject(new Error("connection refused")),
      close: () => {},
    };
    const { app, logs } = testApp({ resolveMode: labelModeResolver(failing, undefined) });
    const response = await admit(app, "/validate", reviewOf(privilegedPod()));
    expect(response.allowed).toBe(false);
    expect(logs.withMessage("admission decision")[0]?.mode).toBe("enforce");
  });

  it.each(["kube-system", "kube-public", "kube-node-lease", "tollgate-system"])(
    "exempts namespace %s before any lookup, even with ?mode=enforce",
    async (namespace) => {
      const resolveMode: ModeResolver = () => {
        throw new Error("must not be asked");
      };
      const { app, logs } = testApp({ resolveMode });
      const response = await admit(
        app,
        "/validate/enforce",
        reviewOf(privilegedPod("p", namespace)),
      );
      expect(response).toEqual({ uid: expect.any(String), allowed: true });
      expect(logs.withMessage("admission decision")[0]?.mode).toBe("exempt");
    },
  );

  it("admits DELETE and CONNECT at once", async () => {
    const { app, logs } = testApp();
    const del = await admit(
      app,
      "/validate",
      reviewOf(privilegedPod(), { operation: "DELETE", object: null, oldObject: privilegedPod() }),
    );
    expect(del).toEqual({ uid: expect.any(String), allowed: true });
    const connect = await admit(
      app,
      "/validate",
      reviewOf(privilegedPod(), { operation: "CONNECT", subResource: "exec" }),
    );
    expect(connect.allowed).toBe(true);
    expect(logs.withMessage("admission decision").map((l) => l.mode)).toEqual(["none", "none"]);
  });

  it("admits kinds no policy matches without looking up the namespace", async () => {
    let asked = 0;
    const resolveMode: ModeResolver = (_namespace, settings) => {
      asked++;
      return settings.defaultMode;
    };
    const { app, logs } = testApp({ resolveMode });
    const configMap: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "apps" },
      data: { mode: "fast" },
    };
    const response = await admit(app, "/validate", reviewOf(configMap));
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
    expect(asked).toBe(0);
    expect(logs.withMessage("admission decision")[0]).toMatchObject({
      kind: "ConfigMap",
      mode: "none",
      decision: "allowed",
    });
  });

  it("checks UPDATE against the new object", async () => {
    const { app } = testApp();
    const before: KubeObject = privilegedDeployment();
    const spec = (
      before.spec as { template: { spec: { containers: { securityContext?: unknown }[] } } }
    ).template.spec;
    for (const container of spec.containers) delete container.securityContext;
    // Old compliant, new privileged: denied.
    const worse = await admit(
      app,
      "/validate",
      reviewOf(privilegedDeployment(), { operation: "UPDATE", oldObject: before }),
    );
    expect(worse.allowed).toBe(false);
    expect(worse.status?.message).toContain('container "app"');
    // Old privileged, new compliant: allowed.
    const better = await admit(
      app,
      "/validate",
      reviewOf(before, { operation: "UPDATE", oldObject: privilegedDeployment() }),
    );
    expect(better).toEqual({ uid: expect.any(String), allowed: true });
    // Old and new privileged: a violation that predates the update warns instead of blocking.
    const same = await admit(
      app,
      "/validate",
      reviewOf(privilegedDeployment(), { operation: "UPDATE", oldObject: privilegedDeployment() }),
    );
    expect(same.allowed).toBe(true);
    expect(same.warnings?.[0]).toContain("already present before this update");
  });

  it("hot-swaps the policy set between requests", async () => {
    const { app, policies } = testApp();
    expect((await admit(app, "/validate", reviewOf(privilegedPod()))).allowed).toBe(false);
    policies.current = policySetOf(["privileged"], {
      policies: { privileged: { enabled: false } },
    });
    expect((await admit(app, "/validate", reviewOf(privilegedPod()))).allowed).toBe(true);
  });
});

describe("POST /mutate", () => {
  it("returns a base64 JSON Patch that makes the object compliant", async () => {
    const { app } = testApp();
    const pod = plainPod();
    const response = await admit(app, "/mutate", reviewOf(pod));
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe("JSONPatch");
    const operations = decodePatch(response.patch);
    expect(operations).toContainEqual({
      op: "add",
      path: "/spec/automountServiceAccountToken",
      value: false,
    });
    const patched = jsonpatch.applyPatch(structuredClone(pod), operations, true, false)
      .newDocument as KubeObject;
    expect(
      (patched.spec as { automountServiceAccountToken?: boolean }).automountServiceAccountToken,
    ).toBe(false);
    // The patched object needs nothing more: no patch field at all.
    const again = await admit(app, "/mutate", reviewOf(patched));
    expect(again).toEqual({ uid: expect.any(String), allowed: true });
    expect("patch" in again).toBe(false);
    expect("patchType" in again).toBe(false);
  });

  it("patches a Deployment's pod template with the shipped policies", async () => {
    const { app, logs } = testApp({ policies: fullPolicySet() });
    const deployment = privilegedDeployment();
    const response = await admit(app, "/mutate", reviewOf(deployment));
    const operations = decodePatch(response.patch);
    const patched = jsonpatch.applyPatch(structuredClone(deployment), operations, true, false)
      .newDocument as { spec: { template: { spec: { automountServiceAccountToken?: boolean } } } };
    expect(patched.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(logs.withMessage("admission decision")[0]?.patched).toContain("service-account-token");
  });

  it("never validates: a privileged pod is patched and allowed", async () => {
    const { app } = testApp();
    const response = await admit(app, "/mutate", reviewOf(privilegedPod()));
    expect(response.allowed).toBe(true);
    expect(response.status).toBeUndefined();
    expect(response.warnings).toBeUndefined();
  });

  it("only patches in enforce mode", async () => {
    const { app } = testApp();
    for (const url of ["/mutate/warn", "/mutate/audit", "/mutate/off", "/mutate?mode=warn"]) {
      const response = await admit(app, url, reviewOf(plainPod()));
      expect(response).toEqual({ uid: expect.any(String), allowed: true });
    }
    expect((await admit(app, "/mutate/enforce", reviewOf(plainPod()))).patch).toBeDefined();
  });

  it("leaves subresource updates and Pod updates alone", async () => {
    const { app } = testApp();
    const status = await admit(
      app,
      "/mutate",
      reviewOf(plainPod(), { operation: "UPDATE", subResource: "status", oldObject: plainPod() }),
    );
    expect(status.patch).toBeUndefined();
    const update = await admit(
      app,
      "/mutate",
      reviewOf(plainPod(), { operation: "UPDATE", oldObject: plainPod() }),
    );
    expect(update.patch).toBeUndefined();
  });
});
