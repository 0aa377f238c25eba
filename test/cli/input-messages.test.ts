// Input that is not a plain manifest gets one line naming file, document and
// what is wrong: wrong field types, unrendered templates, keys JSON cannot
// hold. Never a raw warning from the YAML library, never a stack trace.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tollgate, workspace } from "./support.js";

async function problemLines(
  file: string,
  text: string,
): Promise<{ code: number; lines: string[] }> {
  const dir = workspace({ [file]: text });
  const run = await tollgate(["test", join(dir, file)]);
  expect(run.stderr).not.toMatch(/Warning|YAML(Parse|Warn)|\n\s+at /);
  return {
    code: run.code,
    lines: run.stderr
      .trimEnd()
      .split("\n")
      .filter((line) => line.startsWith("tollgate: "))
      .map((line) => line.replace(dir, "DIR")),
  };
}

describe("input problems are named in one line", () => {
  it("says a field has the wrong type instead of that it is missing", async () => {
    const { code, lines } = await problemLines(
      "types.yaml",
      "apiVersion: 1\nkind: Pod\nmetadata: {name: a}\n",
    );
    expect(code).toBe(2);
    expect(lines).toEqual([
      "tollgate: DIR/types.yaml: document 1 (line 1): Pod apiVersion is 1 (a number), not a string",
    ]);
  });

  it("names an unrendered Helm template as such", async () => {
    const { code, lines } = await problemLines(
      "configmap.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  {{- range .Values.items }}\n  {{ .key }}: {{ .value }}\n  {{- end }}\n",
    );
    expect(code).toBe(2);
    expect(lines).toEqual([
      "tollgate: DIR/configmap.yaml: is a template ({{ … }}), not a manifest; render it first (helm template …) or leave it out",
    ]);
  });

  it("names a collection used as a key, with its line", async () => {
    const { code, lines } = await problemLines(
      "keys.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  ? [a, b]\n  : c\n",
    );
    expect(code).toBe(2);
    expect(lines).toEqual([
      "tollgate: DIR/keys.yaml: document 1 (line 5): a mapping key is a list, which JSON cannot hold",
    ]);
  });
});
