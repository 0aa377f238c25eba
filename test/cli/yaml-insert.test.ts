import { describe, expect, it } from "vitest";
import { fixText } from "../../src/cli/fixer.js";
import { insertKeys } from "../../src/cli/yaml-insert.js";
import type { PatchOperation } from "../../src/engine/index.js";
import { documentValue } from "../../src/manifests/read.js";
import { defaultSet } from "../support/policies.js";

const add = (path: string, value: unknown): PatchOperation => ({ op: "add", path, value });

/** What kubectl reads from one document's text. */
function kubectlValue(text: string): unknown {
  const piece = { index: 1, line: 1, start: 0, end: text.length, text };
  return documentValue(piece, "test.yaml", { objects: [], problems: [] });
}

/** The new text, checked to read as the value insertKeys says it must. */
function inserted(text: string, ...ops: PatchOperation[]): string {
  const result = insertKeys(text, ops);
  if (!result) throw new Error("insertKeys declined");
  expect(kubectlValue(result.text)).toEqual(result.expected);
  return result.text;
}

const POD = `# a pod
spec:
  containers:
    - name: web   # the web one
      image: web:1
      resources: { limits: { memory: 1Gi } }
    - name: side
      ports:
      - containerPort: 80

      # trailing comment
  restartPolicy: Always
`;

describe("insertKeys", () => {
  it("writes new keys after the last line of their mapping and keeps every other byte", () => {
    expect(
      inserted(
        POD,
        add("/spec/containers/0/securityContext", { allowPrivilegeEscalation: false }),
        add("/spec/containers/0/securityContext/capabilities", { drop: ["ALL"] }),
        add("/spec/automountServiceAccountToken", false),
      ),
    ).toBe(
      POD.replace(
        "      resources: { limits: { memory: 1Gi } }\n",
        `      resources: { limits: { memory: 1Gi } }
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
            - ALL
`,
      ).replace(
        "  restartPolicy: Always\n",
        "  restartPolicy: Always\n  automountServiceAccountToken: false\n",
      ),
    );
  });

  it("puts an inner mapping's keys before an outer one's when both end on one line", () => {
    expect(
      inserted(
        POD,
        add("/spec/priorityClassName", "low"),
        add("/spec/containers/1/securityContext", { runAsNonRoot: true }),
      ),
    ).toBe(
      POD.replace(
        "      - containerPort: 80\n",
        "      - containerPort: 80\n      securityContext:\n        runAsNonRoot: true\n",
      ).replace("  restartPolicy: Always\n", "  restartPolicy: Always\n  priorityClassName: low\n"),
    );
  });

  it("indents new sequences as the document does", () => {
    const flush = "a:\n- x: 1\nb:\n  c: 1\n";
    expect(inserted(flush, add("/b/d", [{ e: [1] }]))).toBe(`${flush}  d:\n  - e:\n    - 1\n`);
    const four = "a:\n    b: 1\n";
    expect(inserted(four, add("/a/c", { d: ["x"] }))).toBe(
      `${four}    c:\n        d:\n            - x\n`,
    );
  });

  it("quotes strings kubectl would read as something else", () => {
    const text = "a:\n  b: 1\n";
    const values = ["yes", "on", "0777", "1_000", "true", "null", "", "a: b", "# x", "-1", "x y"];
    const out = inserted(
      text,
      ...values.map((value, i) => add(`/a/k${i}`, value)),
      add("/a/num", 5),
      add("/a/t", true),
      add("/a/z", null),
      add("/a/n", "a key kubectl reads as false"),
      add("/a/empty", {}),
      add("/a/none", []),
      add("/a/plain", "RuntimeDefault"),
    );
    expect(out).toContain('  k0: "yes"\n  k1: "on"\n  k2: "0777"\n');
    expect(out).toContain(
      `  num: 5\n  t: true\n  z: null\n  "n": "a key kubectl reads as false"\n  empty: {}\n  none: []\n  plain: RuntimeDefault\n`,
    );
  });

  it("keeps CRLF line endings and a missing final line break", () => {
    expect(inserted("a:\r\n  b: 1\r\n", add("/a/c", 2))).toBe("a:\r\n  b: 1\r\n  c: 2\r\n");
    expect(inserted("a:\n  b: 1", add("/a/c", { d: 2 }))).toBe("a:\n  b: 1\n  c:\n    d: 2");
  });

  it("writes after a block scalar's last line, not after the blank lines or comments that follow it", () => {
    const text = "data:\n  script: |\n    # not a comment\n    echo\n\n# about kind\nkind: X\n";
    expect(inserted(text, add("/data/more", "x"))).toBe(
      text.replace("    echo\n", "    echo\n  more: x\n"),
    );
  });

  it("leaves every other patch to the syntax tree", () => {
    const text = "a:\n  b: 1\n  f: { g: 1 }\n  n:\n";
    // Replacing, removing, adding to a list, to a flow mapping, or over an existing (null) key.
    expect(insertKeys(text, [{ op: "replace", path: "/a/b", value: 2 }])).toBeUndefined();
    expect(insertKeys(text, [{ op: "remove", path: "/a/b" }])).toBeUndefined();
    expect(insertKeys("a: [1]\n", [add("/a/0", 2)])).toBeUndefined();
    expect(insertKeys(text, [add("/a/f/h", 2)])).toBeUndefined();
    expect(insertKeys(text, [add("/a/n", { x: 1 })])).toBeUndefined();
    expect(insertKeys(text, [add("/a/b", 2)])).toBeUndefined();
    // A path that does not exist, and a document the fast reader leaves to the full one.
    expect(insertKeys(text, [add("/x/y", 1)])).toBeUndefined();
    expect(insertKeys("a: &x\n  b: 1\nc: *x\n", [add("/a/c", 1)])).toBeUndefined();
  });
});

describe("fixText with key insertion", () => {
  it("falls back to the syntax tree when the inserted text does not read back as the patch", () => {
    // Lines after a kept (|+) block scalar's last line are part of its value,
    // so keys inserted there change it; the read-back catches that.
    const text = `apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps }
spec:
  containers:
    - name: web
      image: mcr.microsoft.com/web:1.0
      workingDir: |+
        /srv

`;
    const options = { set: defaultSet(), namespace: undefined };
    const ops = fixText(text, "pod.yaml", options).patched.flatMap((p) => p.patch);
    const direct = insertKeys(text, ops);
    if (!direct) throw new Error("insertKeys declined");
    expect(kubectlValue(direct.text)).not.toEqual(direct.expected);
    const fixed = fixText(text, "pod.yaml", options);
    expect(fixed.problems).toEqual([]);
    expect(fixed.changed).toBe(true);
    expect(kubectlValue(fixed.text)).toEqual(direct.expected);
    expect(kubectlValue(fixed.text)).toMatchObject({
      spec: { containers: [{ workingDir: "/srv\n\n" }] },
    });
  });
});
