import { describe, expect, it } from "vitest";
import { inputFromObject, type KubeObject, withoutNulls } from "../../src/engine/index.js";
import { defaultSet, objectOf, run } from "../support/policies.js";

describe("explicit null means unset, as in the API server", () => {
  it("drops null fields at every depth, keeps list items, and copies only what changes", () => {
    const untouched = { a: { b: [1, { c: 2 }] } };
    expect(withoutNulls(untouched)).toBe(untouched);
    const input = { a: null, b: { c: null, d: 1 }, e: [null, { f: null }], g: { h: 2 } };
    const out = withoutNulls(input);
    expect(out).toEqual({ b: { d: 1 }, e: [null, {}], g: { h: 2 } });
    expect(out.g).toBe(input.g);
    expect(input.a).toBeNull(); // the argument is not changed
    const proto = JSON.parse('{"__proto__": {"x": 1}, "y": null}') as object;
    expect(Object.keys(withoutNulls(proto))).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(withoutNulls(proto))).toBe(Object.prototype);
  });

  it("judges procMount, runAsNonRoot, seccompProfile and appArmorProfile set to null as unset", () => {
    const pod = (securityContext: string, podLevel = "") =>
      objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps }
spec:
  securityContext: { runAsNonRoot: true, runAsUser: 1000, ${podLevel} }
  containers:
    - name: app
      image: mcr.microsoft.com/app:1
      securityContext: { ${securityContext} }
`);
    const policies = (object: KubeObject) =>
      run(defaultSet(), object).violations.map((v) => `${v.policy} ${v.path}`);
    const withNulls = policies(
      pod(
        "procMount: null, runAsNonRoot: null, seccompProfile: null, appArmorProfile: null, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] }",
        "seccompProfile: { type: RuntimeDefault }",
      ),
    );
    const without = policies(
      pod(
        "allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] }",
        "seccompProfile: { type: RuntimeDefault }",
      ),
    );
    expect(withNulls).toEqual(without);
    for (const field of ["procMount", "runAsNonRoot", "seccompProfile", "appArmorProfile"]) {
      expect(withNulls.join("\n")).not.toContain(`securityContext.${field}`);
    }
  });

  it("builds the admission input from the object without its nulls", () => {
    const object = objectOf(
      "apiVersion: v1\nkind: Pod\nmetadata: { name: p, labels: null }\nspec: { containers: [] }\n",
    );
    expect(inputFromObject(object).object).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [] },
    });
  });
});
