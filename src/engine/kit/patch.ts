import { type Path, toPointer } from "../paths.js";
import type { PatchOperation } from "../types.js";

function nest(path: Path, from: number, value: unknown): unknown {
  let nested = value;
  for (let i = path.length - 1; i >= from; i--) {
    const segment = path[i] as string | number;
    nested = typeof segment === "number" ? [nested] : { [segment]: nested };
  }
  return nested;
}

/**
 * Sets `value` at `path` only when nothing is there, creating missing parent
 * objects in the same single operation. Returns no operation when the field
 * is already set, even to another value, which keeps mutations idempotent and
 * leaves the user's explicit choices to the validations.
 */
export function addIfAbsent(root: unknown, path: Path, value: unknown): PatchOperation[] {
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== "object") return [];
    const segment = path[i] as string | number;
    // A field goes into an object and an index into an array; on anything
    // else (a malformed object) the patch would not apply, so none is made.
    if (Array.isArray(node) !== (typeof segment === "number")) return [];
    const next = (node as Record<string | number, unknown>)[segment];
    if (next === undefined || next === null) {
      const op = next === null ? "replace" : "add";
      return [{ op, path: toPointer(path.slice(0, i + 1)), value: nest(path, i + 1, value) }];
    }
    node = next;
  }
  return [];
}
