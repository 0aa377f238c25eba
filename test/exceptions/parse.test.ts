import { describe, expect, it } from "vitest";
import { formatExceptionProblem, parseException } from "../../src/exceptions/index.js";
import { exceptionObject } from "./support.js";

function problemOf(value: unknown, options = {}): string {
  const parsed = parseException(value, options);
  if (parsed.ok) throw new Error("expected a problem");
  return formatExceptionProblem(parsed.problem);
}

describe("parseException", () => {
  it("accepts the shape of the CRD and compiles it", () => {
    const parsed = parseException(
      exceptionObject({
        match: {
          kinds: ["DaemonSet"],
          names: ["csi-node*"],
          selector: { matchLabels: { app: "csi-node" } },
        },
        containers: ["driver"],
        expires: "2027-01-31T00:00:00Z",
        approvedBy: "platform-team",
      }),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.exception.namespace).toBe("storage");
    expect(parsed.exception.expiresAt).toBe(Date.parse("2027-01-31T00:00:00Z"));
    expect([...parsed.exception.policies]).toEqual(["privileged", "host-path"]);
  });

  it("requires a reason, naming the exception and the field", () => {
    expect(problemOf(exceptionObject({ reason: "  " }))).toBe(
      "PolicyException storage/csi-node: spec.reason: is required: say why the exception exists",
    );
    const { reason: _, ...spec } = exceptionObject().spec as Record<string, unknown>;
    expect(problemOf({ ...exceptionObject(), spec })).toMatch(/spec\.reason/);
  });

  it("refuses expires that is not RFC 3339", () => {
    expect(problemOf(exceptionObject({ expires: "31/01/2027" }))).toMatch(
      /spec\.expires: must be an RFC 3339 time/,
    );
    expect(problemOf(exceptionObject({ expires: "2027-02-30T00:00:00Z" }))).toMatch(
      /spec\.expires/,
    );
    expect(problemOf(exceptionObject({ expires: "2027-01-31" }))).toMatch(/spec\.expires/);
  });

  it("refuses unknown fields, an empty policy list and malformed selectors", () => {
    expect(problemOf(exceptionObject({ namespaces: ["*"] }))).toMatch(/spec: Unrecognized key/i);
    expect(problemOf(exceptionObject({ policies: [] }))).toMatch(/spec\.policies/);
    expect(
      problemOf(
        exceptionObject({
          match: { selector: { matchExpressions: [{ key: "a", operator: "In" }] } },
        }),
      ),
    ).toMatch(/spec\.match\.selector\.matchExpressions\[0\]: In and NotIn need values/);
  });

  it("needs a namespace, which a CLI default may supply as kubectl apply -n does", () => {
    const object = exceptionObject();
    (object.metadata as Record<string, unknown>).namespace = undefined;
    expect(problemOf(object)).toMatch(/metadata\.namespace/);
    const parsed = parseException(object, { defaultNamespace: "team-a" });
    expect(parsed.ok && parsed.exception.namespace).toBe("team-a");
  });

  it("says where a file's exception came from", () => {
    expect(
      problemOf(
        { ...exceptionObject(), apiVersion: "tollgate.dev/v2" },
        { where: "ex.yaml: document 2" },
      ),
    ).toBe("ex.yaml: document 2: apiVersion: must be tollgate.dev/v1alpha1");
  });
});
