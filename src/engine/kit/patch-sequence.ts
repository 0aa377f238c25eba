import jsonpatch from "fast-json-patch";
import { cloneData } from "../clone.js";
import type { Path } from "../paths.js";
import type { PatchOperation } from "../types.js";
import { addIfAbsent } from "./patch.js";

/**
 * `addIfAbsent` for several fields of one object. Each operation is computed
 * against the object as the earlier ones left it, so two fields under the
 * same missing parent (`securityContext.a`, `securityContext.b`) give two
 * operations that build on each other instead of the second replacing the
 * first. The caller's object is never modified.
 */
export function addEachIfAbsent(
  root: unknown,
  fields: readonly (readonly [Path, unknown])[],
): PatchOperation[] {
  let current = root;
  const ops: PatchOperation[] = [];
  for (const [path, value] of fields) {
    const next = addIfAbsent(current, path, value);
    if (next.length === 0) continue;
    if (current === root) current = cloneData(root);
    // A copy, so that later fields nest into the working object, never into this operation's value.
    jsonpatch.applyPatch(current, cloneData(next), false, true);
    ops.push(...next);
  }
  return ops;
}
