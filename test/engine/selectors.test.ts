import { describe, expect, it } from "vitest";
import { selectorMatches, selectsEveryPod } from "../../src/engine/index.js";

describe("selectorMatches", () => {
  const labels = { app: "web", tier: "front" };

  it("reads an empty selector as everything and a missing one as nothing", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches(null, labels)).toBe(false);
  });

  it("needs every matchLabels entry", () => {
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "web", tier: "back" } }, labels)).toBe(false);
  });

  it.each([
    [{ key: "app", operator: "In", values: ["web", "api"] }, true],
    [{ key: "app", operator: "In", values: ["api"] }, false],
    [{ key: "app", operator: "NotIn", values: ["api"] }, true],
    [{ key: "app", operator: "NotIn", values: ["web"] }, false],
    [{ key: "missing", operator: "NotIn", values: ["x"] }, true],
    [{ key: "tier", operator: "Exists" }, true],
    [{ key: "missing", operator: "Exists" }, false],
    [{ key: "missing", operator: "DoesNotExist" }, true],
    [{ key: "app", operator: "DoesNotExist" }, false],
    [{ key: "app", operator: "Bogus" }, false],
  ])("matchExpressions %j → %s", (expr, expected) => {
    expect(selectorMatches({ matchExpressions: [expr] }, labels)).toBe(expected);
  });
});

describe("selectsEveryPod", () => {
  it("treats a selector with no entries as selecting every pod", () => {
    expect(selectsEveryPod({})).toBe(true);
    expect(selectsEveryPod({ matchLabels: {} })).toBe(true);
    expect(selectsEveryPod({ matchLabels: { a: "b" } })).toBe(false);
    expect(selectsEveryPod(undefined)).toBe(false);
  });
});
