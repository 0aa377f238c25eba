/** Names a value of the wrong type for a message: `42 (a number)`, `a list`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${JSON.stringify(value)} (a ${typeof value})`;
}
