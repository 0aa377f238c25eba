// Kubernetes objects arrive as JSON, where every number is a double. The API
// server's CEL sees schema-typed values instead: `replicas` is an int, so
// `object.spec.replicas + 1` works there. Integral numbers become CEL ints
// (BigInt) here so that expressions behave as they do in the API server.

/** A JSON value as CEL sees it: integral numbers as BigInt, everything else as is. */
export function toCel(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      out[key] = toCel((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
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
