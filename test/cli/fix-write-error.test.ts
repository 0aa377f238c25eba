// A write failure cannot be provoked with file modes when tests run as root,
// so this file replaces writeFileSync for one file name only.
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { privilegedPod, tollgate, workspace } from "./support.js";

const lock = vi.hoisted(() => ({ armed: false }));

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const writeFileSync: typeof real.writeFileSync = (path, ...rest) => {
    if (lock.armed && String(path).endsWith("locked.yaml")) {
      throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    }
    real.writeFileSync(path, ...rest);
  };
  return { ...real, default: { ...real, writeFileSync }, writeFileSync };
});

describe("tollgate fix --write", () => {
  it("reports a file it cannot write, keeps going and exits 2", async () => {
    const dir = workspace({ "locked.yaml": privilegedPod("p"), "open.yaml": privilegedPod("q") });
    const file = join(dir, "locked.yaml");
    lock.armed = true;
    const run = await tollgate(["fix", "--write", file, join(dir, "open.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`tollgate: ${file}: cannot write the fixed file (EACCES)`);
    expect(run.stderr).toContain("1 of 2 files rewritten");
  });
});
