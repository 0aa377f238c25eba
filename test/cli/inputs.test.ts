import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandArguments } from "../../src/cli/inputs.js";
import { privilegedPod, tollgate, workspace } from "./support.js";

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
    expect((JSON.parse(run.stdout) as unknown[]).length).toBe(2);
  });
});
