import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandArguments } from "../../src/cli/inputs.js";
import { jsonResults, privilegedPod, tollgate, workspace } from "./support.js";

describe("directory inputs", () => {
  it("visits each real file once through symbolic link loops", async () => {
    const dir = workspace({ "a.yaml": privilegedPod("a"), "sub/b.yaml": privilegedPod("b") });
    symlinkSync(".", join(dir, "me"));
    symlinkSync("..", join(dir, "sub", "up"));
    symlinkSync(join(dir, "a.yaml"), join(dir, "sub", "a-again.yaml"));
    const { paths, problems } = expandArguments([dir, join(dir, "a.yaml")]);
    expect(problems).toEqual([]);
    expect(paths).toEqual([join(dir, "a.yaml"), join(dir, "sub", "b.yaml")]);

    const run = await tollgate(["test", "--format", "json", dir]);
    expect(jsonResults(run.stdout).length).toBe(2);
  });
});

describe("--ignore-unknown", () => {
  const kustomization = "resources:\n  - deployment.yaml\n";
  it("skips documents without apiVersion or kind with a notice instead of exit 2", async () => {
    const dir = workspace({ "kustomization.yaml": kustomization, "pod.yaml": privilegedPod("p") });
    const strict = await tollgate(["test", dir]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("kustomization.yaml: document 1 (line 1): has no kind");

    const lenient = await tollgate(["test", "--ignore-unknown", "--format", "json", dir]);
    expect(lenient.code).toBe(1); // the privileged pod is still denied
    expect(lenient.stderr).toContain("notice:");
    expect(lenient.stderr).toContain("skipped (--ignore-unknown)");
    expect(jsonResults(lenient.stdout).length).toBe(1);

    const fix = await tollgate(["fix", "--ignore-unknown", "--check", dir]);
    expect(fix.code).toBe(1);
  });

  it("still counts invalid YAML as an input problem", async () => {
    const dir = workspace({ "bad.yaml": "a: [1, 2\n" });
    const run = await tollgate(["test", "--ignore-unknown", dir]);
    expect(run.code).toBe(2);
  });
});
