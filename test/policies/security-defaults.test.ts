import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { addEachIfAbsent } from "../../src/engine/kit/index.js";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const BARE = `
apiVersion: v1
kind: Pod
metadata: { name: bare, namespace: apps }
spec:
  initContainers:
    - name: setup
      image: mcr.microsoft.com/setup:1.0
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`;

function mutated(object: KubeObject, parameters: Record<string, unknown> = {}): KubeObject {
  const { patch } = run(onlyPolicies(["security-defaults"], parameters), object, {
    phase: "mutate",
  });
  return jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
}

const ALL_OFF = {
  runAsNonRoot: false,
  seccompRuntimeDefault: false,
  disallowPrivilegeEscalation: false,
  dropAllCapabilities: false,
};

describe("security-defaults", () => {
  it("switches each field off with its own parameter", () => {
    const object = objectOf(BARE);
    expect(
      run(onlyPolicies(["security-defaults"], ALL_OFF), object, { phase: "mutate" }).patch,
    ).toEqual([]);

    const onlySeccomp = mutated(object, { ...ALL_OFF, seccompRuntimeDefault: true });
    expect(onlySeccomp.spec).toEqual({
      ...(object.spec as object),
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    });

    const onlyDrop = mutated(object, { ...ALL_OFF, dropAllCapabilities: true }) as {
      spec: { securityContext?: unknown; containers: { securityContext?: unknown }[] };
    };
    expect(onlyDrop.spec.securityContext).toBeUndefined();
    expect(onlyDrop.spec.containers[0]?.securityContext).toEqual({
      capabilities: { drop: ["ALL"] },
    });
  });

  it("leaves a pod with a numbered non-root user passing the restricted validations afterwards", () => {
    const validations = onlyPolicies([
      "security-defaults",
      "run-as-non-root",
      "privilege-escalation",
      "seccomp",
      "seccomp-required",
      "capabilities-minimal",
    ]);
    const numbered = objectOf(BARE) as { spec: Record<string, unknown> };
    numbered.spec.securityContext = { runAsUser: 10001 };
    const verdict = run(validations, numbered as KubeObject, { phase: "both" });
    expect(verdict.mutatedBy).toEqual(["security-defaults"]);
    expect(verdict.violations).toEqual([]);
  });

  it("never sets runAsNonRoot where the image's user decides, so a root image is denied, not broken", () => {
    // The kubelet refuses to start a root image under runAsNonRoot: true
    // (CreateContainerConfigError); test/node/cluster proves it on a real node.
    const object = objectOf(BARE);
    expect((mutated(object) as { spec: { securityContext: object } }).spec.securityContext).toEqual(
      {
        seccompProfile: { type: "RuntimeDefault" },
      },
    );
    const verdict = run(onlyPolicies(["security-defaults", "run-as-non-root"]), object, {
      phase: "both",
    });
    expect(verdict.violations.map((v) => [v.policy, v.message])).toEqual([
      ["run-as-non-root", expect.stringContaining("runAsNonRoot is not set")],
      ["run-as-non-root", expect.stringContaining("runAsNonRoot is not set")],
    ]);
  });

  it("does not set allowPrivilegeEscalation next to SYS_ADMIN, which the API server would refuse", () => {
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: admin, namespace: apps }
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        capabilities: { add: [CAP_SYS_ADMIN] }
`);
    const result = mutated(object) as { spec: { containers: { securityContext: object }[] } };
    expect(result.spec.containers[0]?.securityContext).toEqual({
      capabilities: { add: ["CAP_SYS_ADMIN"], drop: ["ALL"] },
    });
  });

  it("relies on spec.os only: a pod aimed at Windows by nodeSelector alone gets the Linux fields", () => {
    // Without spec.os the API server accepts the fields and the validations
    // require them, so leaving them out would only turn into a denial.
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: selector, namespace: apps }
spec:
  nodeSelector: { kubernetes.io/os: windows }
  securityContext: { runAsUser: 10001 }
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
`);
    const result = mutated(object) as { spec: { securityContext: object } };
    expect(result.spec.securityContext).toEqual({
      runAsUser: 10001,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("leaves container fields already set, even to other values, and fills those sent as null", () => {
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: mixed, namespace: apps }
spec:
  securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: own
      image: mcr.microsoft.com/own:1.0
      securityContext: { allowPrivilegeEscalation: true, capabilities: { drop: [] } }
    - name: nulls
      image: mcr.microsoft.com/nulls:1.0
      securityContext: { allowPrivilegeEscalation: null, capabilities: null }
    - name: none
      image: mcr.microsoft.com/none:1.0
      securityContext: null
`);
    const { patch } = run(onlyPolicies(["security-defaults"]), object, { phase: "mutate" });
    expect(patch).toEqual([
      {
        op: "add",
        path: "/spec/containers/1/securityContext/allowPrivilegeEscalation",
        value: false,
      },
      {
        op: "add",
        path: "/spec/containers/1/securityContext/capabilities",
        value: { drop: ["ALL"] },
      },
      {
        op: "add",
        path: "/spec/containers/2/securityContext",
        value: { allowPrivilegeEscalation: false },
      },
      {
        op: "add",
        path: "/spec/containers/2/securityContext/capabilities",
        value: { drop: ["ALL"] },
      },
    ]);
  });

  it("does not touch Pods on UPDATE, whose spec is immutable", () => {
    const object = objectOf(BARE);
    const verdict = run(onlyPolicies(["security-defaults"]), object, {
      phase: "mutate",
      operation: "UPDATE",
      oldObject: object,
    });
    expect(verdict.patch).toEqual([]);
  });
});

describe("addEachIfAbsent", () => {
  it("builds later fields on parents created by earlier ones", () => {
    const root = { spec: { containers: [{ name: "a" }] } };
    const ops = addEachIfAbsent(root, [
      [["spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"], false],
      [["spec", "containers", 0, "securityContext", "capabilities", "drop"], ["ALL"]],
      [["spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"], true],
    ]);
    expect(ops).toEqual([
      {
        op: "add",
        path: "/spec/containers/0/securityContext",
        value: { allowPrivilegeEscalation: false },
      },
      {
        op: "add",
        path: "/spec/containers/0/securityContext/capabilities",
        value: { drop: ["ALL"] },
      },
    ]);
    // The caller's object is left as it was.
    expect(root).toEqual({ spec: { containers: [{ name: "a" }] } });
  });
});
