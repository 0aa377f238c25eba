import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { privilegedPod, tollgate, workspace } from "./support.js";

const compliant = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: apps }
data: { key: value }
`;

describe("tollgate fix --check and --diff", () => {
  it("--check writes nothing and exits 1 when a file needs a change, 0 when none does", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("p"), "cm.yaml": compliant });
    const pod = join(dir, "pod.yaml");
    const needed = await tollgate(["fix", "--check", pod]);
    expect(needed.code).toBe(1);
    expect(needed.stdout).toBe("");
    expect(needed.stderr).toContain("1 of 1 file would change");
    expect(readFileSync(pod, "utf8")).toBe(privilegedPod("p"));

    const clean = await tollgate(["fix", "--check", join(dir, "cm.yaml")]);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain("0 of 1 file would change");
  });

  it("--diff prints a unified diff that patch(1) applies to give what --write writes", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("p"), "cm.yaml": compliant });
    const pod = join(dir, "pod.yaml");
    const diff = await tollgate(["fix", "--diff", "--check", pod, join(dir, "cm.yaml")]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/^--- \/.*pod\.yaml\n\+\+\+ /);
    expect(diff.stdout).toContain("\n+  automountServiceAccountToken: false\n");
    expect(diff.stdout).not.toContain("cm.yaml");

    const written = await tollgate(["fix", "--stdout", pod]);
    const patched = join(dir, "patched.yaml");
    writeFileSync(patched, privilegedPod("p"));
    execFileSync("patch", ["-s", patched], { input: diff.stdout, timeout: 10_000 });
    expect(readFileSync(patched, "utf8")).toBe(written.stdout);
  });

  it("refuses --write together with --check or --diff", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("p") });
    const run = await tollgate(["fix", "--write", "--diff", join(dir, "pod.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot be used with/);
  });
});
