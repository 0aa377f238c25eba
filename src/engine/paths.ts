/** A location inside an object, as segments from its root. */
export type Path = readonly (string | number)[];

/** RFC 6901 JSON Pointer, with `~` and `/` escaped inside segments. */
export function toPointer(path: Path): string {
  let pointer = "";
  for (const segment of path) {
    pointer += `/${String(segment).replace(/~/g, "~0").replace(/\//g, "~1")}`;
  }
  return pointer;
}

/**
 * The segments of an RFC 6901 JSON Pointer (`/a~1b/c~0d` → `["a/b", "c~d"]`),
 * or undefined when the text is not a pointer. Array indices stay strings:
 * only the document being walked says whether a segment is an index.
 */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The field path the API server uses in its own errors: `spec.containers[0].image`. */
export function toFieldPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Reads the value at `path`, or undefined when any step is missing. */
export function getAt(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}
