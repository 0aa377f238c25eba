/**
 * A deep copy of JSON-like data, with the result `structuredClone` gives for
 * it: plain objects and arrays are copied (own enumerable string keys, a key
 * named `__proto__` included; holes in arrays kept), shared references and
 * cycles stay shared, and anything else (a Date, a Map, a function …) is
 * handed to `structuredClone` itself. Several times faster than
 * `structuredClone` on Kubernetes objects, which matters because mutations
 * copy the whole object.
 */
export function cloneData<T>(value: T): T {
  if (value === null || typeof value !== "object") {
    // structuredClone throws DataCloneError for these; so must we.
    return typeof value === "function" || typeof value === "symbol"
      ? structuredClone(value)
      : value;
  }
  return copy(value, undefined) as T;
}

function copy(value: object, seen: Map<object, unknown> | undefined): unknown {
  const prototype = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (!isArray && prototype !== Object.prototype && prototype !== null) {
    return structuredClone(value);
  }
  const known = seen?.get(value);
  if (known !== undefined) return known;
  // Every copy is remembered, so that shared references and cycles stay shared.
  const copies = seen ?? new Map<object, unknown>();
  if (isArray) {
    const source = value as unknown[];
    const out = new Array<unknown>(source.length);
    copies.set(value, out);
    for (let i = 0; i < source.length; i++) {
      if (i in source) out[i] = child(source[i], copies);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const item = child(source[key], copies);
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: item,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = item;
    }
  }
  return out;
}

function child(value: unknown, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol"
      ? structuredClone(value)
      : value;
  }
  return copy(value, seen);
}
