// `tollgate serve --cert-host`: refused before anything starts when it cannot
// name a certificate host or when no certificate is managed.
import { describe, expect, it } from "vitest";
import { tollgate } from "./support.js";

describe("tollgate serve --cert-host", () => {
  it("is refused without --manage-certs", async () => {
    const result = await tollgate(["serve", "--cert-host", "127.0.0.1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--cert-host only applies with --manage-certs");
  });

  it.each(["Tollgate.Example", "-bad", "a..b", "https://127.0.0.1", ""])(
    "refuses %j, naming the flag and the value",
    async (value) => {
      const result = await tollgate(["serve", "--manage-certs", "--cert-host", value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--cert-host");
      expect(result.stderr).toContain(`got '${value}'`);
    },
  );
});
