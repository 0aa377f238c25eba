import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import {
  applyOperation,
  detectStyle,
  isJsonText,
  jsonIndent,
  jsonOf,
  PatchApplyError,
} from "../../src/cli/yaml-patch.js";
import { type PatchOperation, parsePointer } from "../../src/engine/index.js";

function patched(text: string, ...ops: PatchOperation[]): string {
  const doc = parseDocument(text);
  for (const op of ops) applyOperation(doc, op);
  return doc.toString({ lineWidth: 0 });
}

describe("parsePointer", () => {
  it("unescapes ~1 before ~0, as RFC 6901 requires", () => {
    expect(parsePointer("")).toEqual([]);
    expect(parsePointer("/metadata/annotations/tollgate.dev~1mode")).toEqual([
      "metadata",
      "annotations",
      "tollgate.dev/mode",
    ]);
    expect(parsePointer("/a~01")).toEqual(["a~1"]);
    expect(parsePointer("/")).toEqual([""]);
    expect(parsePointer("spec")).toBeUndefined();
    const doc = parseDocument("spec: {}\n");
    expect(() => applyOperation(doc, { op: "remove", path: "spec" })).toThrow(PatchApplyError);
  });
});

describe("applyOperation", () => {
  it("adds missing keys at the end of a mapping, keeping comments", () => {
    expect(
      patched("# top\nspec:\n  b: 1 # keep\n", { op: "add", path: "/spec/a", value: { x: true } }),
    ).toBe("# top\nspec:\n  b: 1 # keep\n  a:\n    x: true\n");
  });

  it("finds keys that need escaping in the pointer", () => {
    expect(
      patched("metadata:\n  annotations:\n    a/b: one\n", {
        op: "replace",
        path: "/metadata/annotations/a~1b",
        value: "two",
      }),
    ).toBe("metadata:\n  annotations:\n    a/b: two\n");
  });

  it("keeps the node, quoting and comment when a scalar is replaced by one of the same type", () => {
    expect(patched('a: "x" # why\n', { op: "replace", path: "/a", value: "y" })).toBe(
      'a: "y" # why\n',
    );
    expect(patched("a: 1 # why\n", { op: "add", path: "/a", value: true })).toBe("a: true # why\n");
  });

  it("replaces a null value with an object", () => {
    expect(
      patched("spec:\n  securityContext:\n  x: 1\n", {
        op: "replace",
        path: "/spec/securityContext",
        value: { runAsNonRoot: true },
      }),
    ).toBe("spec:\n  securityContext:\n    runAsNonRoot: true\n  x: 1\n");
  });

  it("inserts, appends, replaces and removes array items", () => {
    const text = "l:\n  - a\n  - c\n";
    expect(patched(text, { op: "add", path: "/l/1", value: "b" })).toBe(
      "l:\n  - a\n  - b\n  - c\n",
    );
    expect(patched(text, { op: "add", path: "/l/-", value: "d" })).toBe(
      "l:\n  - a\n  - c\n  - d\n",
    );
    expect(patched(text, { op: "replace", path: "/l/0", value: "z" })).toBe("l:\n  - z\n  - c\n");
    expect(patched(text, { op: "remove", path: "/l/0" })).toBe("l:\n  - c\n");
    expect(() => patched(text, { op: "replace", path: "/l/2", value: "x" })).toThrow(
      /out of range/,
    );
    expect(() => patched(text, { op: "add", path: "/l/x", value: "x" })).toThrow(/array index/);
  });

  it("removes keys and rejects operations on missing ones", () => {
    expect(patched("a: 1\nb: 2\n", { op: "remove", path: "/a" })).toBe("b: 2\n");
    expect(() => patched("a: 1\n", { op: "remove", path: "/b" })).toThrow(/does not exist/);
    expect(() => patched("a: 1\n", { op: "add", path: "/x/y", value: 1 })).toThrow(
      /\/x: does not exist/,
    );
  });

  it("adds inside flow collections in flow style", () => {
    expect(patched("spec: {a: 1}\n", { op: "add", path: "/spec/b", value: { c: 2 } })).toBe(
      "spec: { a: 1, b: { c: 2 } }\n",
    );
  });

  it("refuses paths through aliases and anchors", () => {
    const text = "x: &shared\n  a: 1\ny: *shared\n";
    expect(() => patched(text, { op: "add", path: "/y/b", value: 2 })).toThrow(/alias \*shared/);
    expect(() => patched(text, { op: "add", path: "/x/b", value: 2 })).toThrow(/anchor &shared/);
  });
});

describe("detectStyle", () => {
  it("recognises flush and indented sequences and the indent width", () => {
    expect(detectStyle("a:\n- x\nb:\n    c: 1\n")).toMatchObject({ indentSeq: false, indent: 4 });
    expect(detectStyle("a:\n  - x\n  - y\n")).toMatchObject({ indentSeq: true, indent: 2 });
    expect(detectStyle("a: {b: 1}\n").flowCollectionPadding).toBe(false);
    expect(detectStyle("a: { b: 1 }\n").flowCollectionPadding).toBe(true);
  });
});

describe("JSON output", () => {
  it("detects JSON and its indentation", () => {
    expect(isJsonText('  {"a": 1}\n')).toBe(true);
    expect(isJsonText("{a: 1}\n")).toBe(false);
    expect(isJsonText("a: 1\n")).toBe(false);
    expect(jsonIndent('{\n    "a": 1\n}')).toBe("    ");
    expect(jsonIndent('{"a": 1}')).toBe("");
  });

  it("writes the AST back in source key order", () => {
    const doc = parseDocument('{"b": 1, "10": [true, null, "s"], "a": {}}');
    expect(jsonOf(doc.contents, "")).toBe('{"b":1,"10":[true,null,"s"],"a":{}}');
    expect(jsonOf(doc.contents, "  ")).toBe(
      '{\n  "b": 1,\n  "10": [\n    true,\n    null,\n    "s"\n  ],\n  "a": {}\n}',
    );
  });
});
