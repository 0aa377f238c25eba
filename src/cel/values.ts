// Kubernetes objects arrive as JSON, where every number is a double. The API
// server's CEL sees schema-typed values instead: `replicas` is an int, so
// `object.spec.replicas + 1` works there. Integral numbers become CEL ints
// (BigInt) here so that expressions behave as they do in the API server.

/**
 * A JSON value as CEL sees it: integral numbers as BigInt, everything else as
 * is. Copy on write: a subtree without integers is returned itself, not
 * copied, so most of an object (names, images, labels) costs no allocation.
 * CEL never writes to its values, and the library's list functions copy.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const converted = toCel(item);
      if (converted !== item) {
        out ??= value.slice();
        out[i] = converted;
      }
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const converted = toCel(item);
    if (converted !== item) {
      out ??= { ...record };
      out[key] = converted;
    }
  }
  return out ?? value;
}

/** How a CEL value reads in a message: strings as they are, the rest as CEL would print it. */
export function describeCel(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(describeCel).join(", ")}]`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${describeCel(k)}: ${describeCel(v)}`).join(", ")}}`;
  }
  if (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${describeCel(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}
