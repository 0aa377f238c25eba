import { describe, expect, it } from "vitest";
import { getAt, toFieldPath, toPointer } from "../../src/engine/index.js";
import { addIfAbsent } from "../../src/engine/kit/index.js";

describe("toPointer", () => {
  it("escapes ~ and / inside segments (RFC 6901)", () => {
    expect(toPointer(["metadata", "annotations", "a/b~c"])).toBe("/metadata/annotations/a~1b~0c");
    expect(toPointer([])).toBe("");
    expect(toPointer(["spec", "containers", 0])).toBe("/spec/containers/0");
  });
});

describe("toFieldPath", () => {
  it("writes the API server's field path style", () => {
    expect(toFieldPath(["spec", "containers", 2, "image"])).toBe("spec.containers[2].image");
    expect(toFieldPath(["metadata", "labels", "app.kubernetes.io/name"])).toBe(
      'metadata.labels["app.kubernetes.io/name"]',
    );
  });
});

describe("getAt", () => {
  it("returns undefined past a missing or scalar step", () => {
    expect(getAt({ a: { b: 1 } }, ["a", "b"])).toBe(1);
    expect(getAt({ a: 1 }, ["a", "b"])).toBeUndefined();
    expect(getAt(undefined, ["a"])).toBeUndefined();
  });
});

describe("addIfAbsent", () => {
  it("creates missing parents in one operation", () => {
    expect(addIfAbsent({ spec: {} }, ["spec", "securityContext", "runAsNonRoot"], true)).toEqual([
      { op: "add", path: "/spec/securityContext", value: { runAsNonRoot: true } },
    ]);
  });

  it("emits nothing when the field is set, whatever its value", () => {
    expect(addIfAbsent({ spec: { x: false } }, ["spec", "x"], true)).toEqual([]);
  });

  it("replaces an explicit null", () => {
    expect(addIfAbsent({ spec: { x: null } }, ["spec", "x"], 1)).toEqual([
      { op: "replace", path: "/spec/x", value: 1 },
    ]);
  });

  it("leaves wrongly shaped parents to the validations", () => {
    expect(addIfAbsent({ spec: "text" }, ["spec", "x"], 1)).toEqual([]);
    // A field under an array, or an index under an object, would be a patch
    // the API server cannot apply (found by npm run fuzz).
    expect(addIfAbsent({ spec: [{}] }, ["spec", "x"], 1)).toEqual([]);
    expect(addIfAbsent({ spec: { containers: {} } }, ["spec", "containers", 0, "x"], 1)).toEqual(
      [],
    );
  });

  it("escapes keys with slashes", () => {
    expect(addIfAbsent({ metadata: {} }, ["metadata", "annotations", "a/b"], "v")).toEqual([
      { op: "add", path: "/metadata/annotations", value: { "a/b": "v" } },
    ]);
    expect(
      addIfAbsent({ metadata: { annotations: {} } }, ["metadata", "annotations", "a/b"], "v"),
    ).toEqual([{ op: "add", path: "/metadata/annotations/a~1b", value: "v" }]);
  });
});
