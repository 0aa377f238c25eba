import { describe, expect, it } from "vitest";
import { cloneData } from "../../src/engine/clone.js";

describe("cloneData", () => {
  it("copies nested objects and arrays deeply", () => {
    const source = { spec: { containers: [{ name: "a", ports: [{ containerPort: 80 }] }] } };
    const copy = cloneData(source);
    expect(copy).toEqual(source);
    copy.spec.containers[0]?.ports.push({ containerPort: 81 });
    expect(source.spec.containers[0]?.ports).toHaveLength(1);
  });

  it("keeps shared references shared and survives cycles, like structuredClone", () => {
    const shared = { x: 1 };
    const source: Record<string, unknown> = { a: shared, b: shared };
    source.self = source;
    const copy = cloneData(source);
    expect(copy.a).toBe(copy.b);
    expect(copy.a).not.toBe(shared);
    expect(copy.self).toBe(copy);
  });

  it("keeps a __proto__ key as data without touching the prototype", () => {
    const source = JSON.parse('{"data":{"__proto__":{"polluted":true}}}');
    const copy = cloneData(source);
    expect(Object.keys(copy.data)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(copy.data)).toBe(Object.prototype);
  });

  it("keeps holes in arrays and hands other types to structuredClone", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    const copy = cloneData({ list: [1, , 3], when: new Date(0) });
    expect(1 in copy.list).toBe(false);
    expect(copy.list).toHaveLength(3);
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when.getTime()).toBe(0);
  });

  it("throws for functions, as structuredClone does", () => {
    expect(() => cloneData({ f: () => 1 })).toThrow();
  });
});
