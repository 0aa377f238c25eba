import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonResults, privilegedPod, tollgate, workspace } from "./support.js";

/** A pod whose only findings are warnings and audits once privileged is skipped. */
const pod = privilegedPod("p");

function policiesRun(stdout: string): string[] {
  const [result] = jsonResults(stdout);
  return (result?.policies ?? []).filter((p) => p.status !== "skip").map((p) => p.policy);
}

describe("tollgate test selection and threshold flags", () => {
  it("--policy runs only the named policies, --skip leaves some out", async () => {
    const dir = workspace({ "pod.yaml": pod });
    const file = join(dir, "pod.yaml");
    const only = await tollgate(["test", "-o", "json", "--policy", "privileged,probes", file]);
    expect(policiesRun(only.stdout).sort()).toEqual(["privileged", "probes"]);
    const repeated = await tollgate([
      "test",
      "-o",
      "json",
      "--policy",
      "privileged",
      "--policy",
      "probes",
      file,
    ]);
    expect(policiesRun(repeated.stdout).sort()).toEqual(["privileged", "probes"]);

    const skipped = await tollgate(["test", "-o", "json", "--skip", "privileged", file]);
    expect(policiesRun(skipped.stdout)).not.toContain("privileged");
    expect(policiesRun(skipped.stdout)).toContain("probes");

    const typo = await tollgate(["test", "--skip", "privilegd", file]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^tollgate: --skip: unknown policy privilegd; known ones are: /);
  });

  it("--min-severity leaves out lower findings, from the exit code too", async () => {
    const dir = workspace({ "pod.yaml": pod });
    const file = join(dir, "pod.yaml");
    const all = jsonResults((await tollgate(["test", "-o", "json", file])).stdout)[0];
    expect(all?.violations.some((v) => v.severity === "low" || v.severity === "medium")).toBe(true);
    const high = await tollgate(["test", "-o", "json", "--min-severity", "high", file]);
    const [result] = jsonResults(high.stdout);
    expect(result?.violations.length).toBeGreaterThan(0);
    expect(
      result?.violations.every((v) => v.severity === "high" || v.severity === "critical"),
    ).toBe(true);

    // Only probes (medium, warn) and privileged (critical, deny) run: above medium nothing denies.
    const args = ["test", "--policy", "probes,privileged", "--skip", "privileged", file];
    expect((await tollgate(args)).code).toBe(0);
    expect((await tollgate([...args, "--fail-on", "warn"])).code).toBe(1);
    expect((await tollgate([...args, "--fail-on", "warn", "--min-severity", "high"])).code).toBe(0);
  });

  it("--quiet lists only denied and warned objects and no notices; --color decides escapes", async () => {
    const dir = workspace({
      "a.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm, namespace: apps }\n---\n${pod}`,
      "kustomization.yaml": "resources: [a.yaml]\n",
    });
    const quiet = await tollgate(["test", "-q", "--ignore-unknown", dir]);
    expect(quiet.stdout).not.toContain("ConfigMap");
    expect(quiet.stdout).toContain("Pod apps/p");
    expect(quiet.stdout).toMatch(/2 resources: 1 denied/);
    expect(quiet.stderr).toBe("");

    const file = join(dir, "a.yaml");
    expect((await tollgate(["test", "--color", "always", file])).stdout).toContain("\u001b[");
    const never = await tollgate(["test", "--color", "never", file], { color: true });
    expect(never.stdout).not.toContain("\u001b[");
    expect((await tollgate(["test", file], { color: true })).stdout).toContain("\u001b[");
  });
});
