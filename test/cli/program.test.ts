import { describe, expect, it } from "vitest";
import { InputError, UsageError } from "../../src/cli/errors.js";
import { packageVersion, reportError } from "../../src/cli/program.js";
import { PolicyLoadError } from "../../src/policyset/index.js";
import { captureIO, tollgate } from "./support.js";

describe("central error handling", () => {
  it("prints known errors as one line and exits 2", () => {
    for (const error of [
      new UsageError("--write cannot rewrite stdin"),
      new InputError("a.yaml", "no such file or directory"),
      new PolicyLoadError("policyset.yaml", "policies.x", "unknown policy"),
    ]) {
      const { io, err } = captureIO();
      expect(reportError(error, io)).toBe(2);
      expect(err).toEqual([`tollgate: ${error.message}\n`]);
    }
  });

  it("labels unexpected errors as internal and hides the stack unless TOLLGATE_DEBUG=1", () => {
    const quiet = captureIO();
    expect(reportError(new TypeError("x is undefined"), quiet.io)).toBe(2);
    expect(quiet.err.join("")).toBe("tollgate: internal error: x is undefined\n");

    const debug = captureIO({ env: { TOLLGATE_DEBUG: "1" } });
    reportError(new TypeError("x is undefined"), debug.io);
    expect(debug.err.join("")).toMatch(
      /^tollgate: internal error: x is undefined\nTypeError: x is undefined\n\s+at /,
    );
  });

  it("handles help, version and unknown commands", async () => {
    const help = await tollgate(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: tollgate/);
    expect(help.stdout).toMatch(/\n {2}test /);
    expect(help.stdout).toMatch(/\n {2}fix /);

    const version = await tollgate(["--version"]);
    expect(version).toEqual({ code: 0, stdout: `${packageVersion()}\n`, stderr: "" });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);

    const unknown = await tollgate(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("tollgate: unknown command 'frobnicate'");
  });
});
