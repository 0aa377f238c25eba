import { describe, expect, it } from "vitest";
import type { Container } from "../../src/engine/index.js";
import { declaredResource, parseQuantity } from "../../src/engine/kit/index.js";
import { regexWork } from "../support/work.js";

describe("parseQuantity", () => {
  it.each([
    ["100m", 0.1],
    ["1", 1],
    [2, 2],
    ["0.5", 0.5],
    [".5", 0.5],
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1k", 1000],
    ["1Ki", 1024],
    ["1E", 1e18],
    ["1e3", 1000],
    ["1E3", 1000],
    ["250u", 0.00025],
  ] as const)("reads %s", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(["", "lots", "1KB", "Mi", "1 Gi", null, {}])("refuses %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it("refuses a huge near-miss with one anchored pass over it", () => {
    // Resource values reach the mutating webhook before the API server validates them.
    for (const text of [`${"1".repeat(2 ** 20)}x`, `1.${"1".repeat(2 ** 20)}x`]) {
      const work = regexWork(() => parseQuantity(text));
      expect(work.result).toBeUndefined();
      expect(work.calls).toBe(1);
      expect(work.characters).toBe(text.length);
    }
  });
});

describe("declaredResource", () => {
  const container: Container = {
    resources: {
      requests: { cpu: "100m", memory: "  " },
      limits: { memory: 0, cpu: "" },
    },
  };

  it("returns what the container declares, as written", () => {
    expect(declaredResource(container, "requests", "cpu")).toBe("100m");
    expect(declaredResource(container, "limits", "memory")).toBe(0);
  });

  it("treats absent and blank values as unset", () => {
    expect(declaredResource(container, "requests", "memory")).toBeUndefined();
    expect(declaredResource(container, "limits", "cpu")).toBeUndefined();
    expect(declaredResource(container, "limits", "ephemeral-storage")).toBeUndefined();
    expect(declaredResource({}, "requests", "cpu")).toBeUndefined();
  });
});
