import { describe, expect, it } from "vitest";
import { podWithImage } from "../support/manifests.js";
import { onlyPolicies, run } from "../support/policies.js";

function flagged(image: string, parameters: Record<string, unknown> = {}): boolean {
  return run(onlyPolicies(["image-tag"], parameters), podWithImage(image)).violations.length > 0;
}

describe("image-tag", () => {
  it("warns rather than denies by default", () => {
    const verdict = run(onlyPolicies(["image-tag"]), podWithImage("mcr.microsoft.com/app:latest"));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations[0]?.action).toBe("warn");
    expect(verdict.warnings).toHaveLength(1);
  });

  it.each(["nginx", "nginx:latest", "nginx:Latest", "localhost:5000/app", "myreg:5000/team/app"])(
    "flags %s",
    (image) => {
      expect(flagged(image)).toBe(true);
    },
  );

  it.each([
    "nginx:1.27",
    "nginx@sha256:4b7ab2b1",
    "nginx:latest@sha256:4b7ab2b1",
    "localhost:5000/app:1.0",
    "myreg:5000/team/app:2024.06",
  ])("accepts %s", (image) => {
    expect(flagged(image)).toBe(false);
  });

  it("leaves empty images to trusted-registry", () => {
    expect(flagged("")).toBe(false);
  });

  it("takes more moving tags from forbiddenTags", () => {
    const parameters = { forbiddenTags: ["latest", "main", "stable"] };
    expect(flagged("mcr.microsoft.com/app:main", parameters)).toBe(true);
    expect(flagged("mcr.microsoft.com/app:STABLE", parameters)).toBe(true);
    expect(flagged("mcr.microsoft.com/app:1.0", parameters)).toBe(false);
    // Without a tag the image is latest whatever the list says.
    expect(flagged("mcr.microsoft.com/app", { forbiddenTags: ["main"] })).toBe(true);
  });
});
