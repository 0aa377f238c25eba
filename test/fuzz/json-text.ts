// JSON text the fuzzer needs and JSON.stringify cannot write: an object with
// the same key twice, and raw text spliced in (nesting 100,000 levels deep,
// numbers beyond double precision). The tree itself stays shallow, so writing
// it never recurses deeper than the seed objects do.

/** Text written as it is, in place of a value. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written with these entries in order, duplicates included. */
export class DuplicateKeys {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

function write(value: unknown, out: string[]): void {
  if (value instanceof RawJson) {
    out.push(value.text);
  } else if (value instanceof DuplicateKeys) {
    writeEntries(value.entries, out);
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, index) => {
      if (index > 0) out.push(",");
      write(item, out);
    });
    out.push("]");
  } else if (value !== null && typeof value === "object") {
    writeEntries(Object.entries(value), out);
  } else {
    // Strings, finite numbers, booleans, null; NaN and Infinity become null as in JSON.stringify.
    out.push(JSON.stringify(value) ?? "null");
  }
}

function writeEntries(entries: readonly (readonly [string, unknown])[], out: string[]): void {
  out.push("{");
  entries.forEach(([key, item], index) => {
    if (index > 0) out.push(",");
    out.push(JSON.stringify(key), ":");
    write(item, out);
  });
  out.push("}");
}

/** The JSON text of `value`, with RawJson and DuplicateKeys written as they say. */
export function jsonText(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}
