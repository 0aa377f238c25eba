/** Whether the value is a plain JSON object (not an array, not null, not a scalar). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The value as a plain JSON object, or undefined for anything else (arrays, null, scalars). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

/** Names a value of the wrong type for a message: `42 (a number)`, `a list`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${JSON.stringify(value)} (a ${typeof value})`;
}

/**
 * Text of a field the API types call a string but a client may send as
 * anything: scalars as written, other values named by describeValue. Never
 * String() on a client object, whose toString key may not be a function.
 */
export function scalarText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return describeValue(value);
}
