// The one test that starts the real entry point as a process: exit codes,
// stdout flushed through a pipe, and errors without stack traces.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { privilegedPod, workspace } from "./support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function tollgate(args: string[], stdin = "") {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: root,
    input: stdin,
    encoding: "utf8",
    env: { ...process.env, TOLLGATE_DEBUG: "", NO_COLOR: "1" },
    // A ceiling for a hung process, not a measurement: each run loads the
    // CLI through tsx, which took over a minute on a machine running two CIs.
    timeout: 240_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("the tollgate executable", () => {
  it("exits 0, 1 and 2, flushes piped output and never shows a stack trace", () => {
    const dir = workspace({
      "system.yaml": privilegedPod("agent", "kube-system"),
      "broken.yaml": "kind: Pod\nmetadata: [unclosed\n",
      // Not manifests: an unrendered chart template and a key JSON cannot hold.
      "chart.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  {{- toYaml .Values.data | nindent 2 }}\n",
      "keys.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k}\ndata:\n  ? {a: 1}\n  : b\n",
    });

    const admitted = tollgate(["test", join(dir, "system.yaml")]);
    expect(admitted.stderr).toBe("");
    expect(admitted.code).toBe(0);

    // Many documents through a pipe: the summary line must arrive in full.
    const many = Array.from({ length: 300 }, (_, i) => privilegedPod(`p${i}`)).join("---\n");
    const denied = tollgate(["test", "-"], many);
    expect(denied.code).toBe(1);
    expect(denied.stdout.trimEnd().split("\n").at(-1)).toMatch(/^300 resources: 300 denied, /);

    const badInput = tollgate([
      "test",
      ...["broken.yaml", "chart.yaml", "keys.yaml", "system.yaml"].map((f) => join(dir, f)),
    ]);
    expect(badInput.code).toBe(2);
    // One line per bad file, each its own, and nothing else: no warning of Node or a library.
    const lines = badInput.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^tollgate: \S*broken\.yaml: document 1 \(line \d+\): invalid YAML/);
    expect(lines[1]).toMatch(
      /^tollgate: \S*chart\.yaml: is a template \(\{\{ … \}\}\), not a manifest/,
    );
    expect(lines[2]).toMatch(
      /^tollgate: \S*keys\.yaml: document 1 \(line 5\): a mapping key is a mapping/,
    );
    expect(badInput.stdout).toContain("Pod kube-system/agent");

    const badConfig = tollgate(["test", "--config", join(dir, "missing.yaml"), "-"]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toBe(
      `tollgate: ${join(dir, "missing.yaml")}: cannot read file (ENOENT)\n`,
    );

    for (const run of [badInput, badConfig]) {
      expect(run.stderr).not.toMatch(/^\s+at /m);
    }
  }, 900_000);
});
