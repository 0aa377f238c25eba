/**
 * The object as the API server holds it after decoding: a field set to
 * `null` is a field not set (Go's nil pointer for built-in kinds, pruned for
 * custom resources with a structural schema). Manifests written by hand or
 * by templates carry such nulls (`procMount: null`, `securityContext: null`),
 * and judging them as values would report faults the cluster never sees.
 * Nulls inside lists are kept: the API server reads those as empty items.
 * Copies only the objects on the way to a null; without nulls it returns
 * its argument.
 */
export function withoutNulls<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const cleaned = withoutNulls(item);
      if (cleaned === item) return;
      out ??= [...value];
      out[i] = cleaned;
    });
    return (out ?? value) as T;
  }
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const item = source[key];
    const cleaned = item === null ? undefined : withoutNulls(item);
    if (cleaned === item) continue;
    out ??= copyOwn(source);
    if (cleaned === undefined) delete out[key];
    else
      Object.defineProperty(out, key, {
        value: cleaned,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return (out ?? value) as T;
}

/** A shallow copy that keeps a key named `__proto__` as an own property. */
function copyOwn(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    Object.defineProperty(out, key, {
      value: source[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
