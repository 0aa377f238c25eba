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
    });

    const admitted = tollgate(["test", join(dir, "system.yaml")]);
    expect(admitted.stderr).toBe("");
    expect(admitted.code).toBe(0);

    // Many documents through a pipe: the summary line must arrive in full.
    const many = Array.from({ length: 300 }, (_, i) => privilegedPod(`p${i}`)).join("---\n");
    const denied = tollgate(["test", "-"], many);
    expect(denied.code).toBe(1);
    expect(denied.stdout.trimEnd().split("\n").at(-1)).toMatch(/^300 resources: 300 denied, /);

    const badInput = tollgate(["test", join(dir, "broken.yaml"), join(dir, "system.yaml")]);
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toMatch(/broken\.yaml: document 1 \(line \d+\): invalid YAML/);
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
