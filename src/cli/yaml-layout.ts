import { diffArrays } from "diff";
import { type Document, isMap, isScalar, isSeq, type Node, parseDocument, visit } from "yaml";

/**
 * The yaml library writes every block sequence of a document in one style,
 * indented or flush under its key, but real manifests mix both (a
 * `containers:` list indented, the `ports:` inside it flush). These helpers
 * give each sequence back the indentation it had in the source, and keep
 * source lines that differ from the new text only in layout that carries no
 * meaning, so that `fix` changes only the lines it must.
 */

/** Column of `offset` in `text`. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

/** Line number (from 0) of `offset` in `text`. */
function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) starts.push(at + 1);
  return starts;
}

/** How far a block sequence's dashes sit right of its key, when both come from `text`. */
function offsetUnderKey(key: unknown, seq: Node, text: string): number | undefined {
  if (!isScalar(key) || !key.range || !seq.range) return undefined;
  return columnOf(text, seq.range[0]) - columnOf(text, key.range[0]);
}

/** A block sequence the library may write flush, so its indentation is ours to choose. */
function isMovable(node: unknown): node is Node & { items: unknown[] } {
  return isSeq(node) && !node.flow && !node.tag && !node.anchor && node.range !== undefined;
}

/**
 * Whether every block sequence under a key that comes from `source` sits
 * `offset` columns right of its key: then the library, told that offset,
 * writes each one where it was, and the re-parse restoreSequenceIndents needs
 * can be skipped (most files use one style throughout).
 */
export function sequencesAllAt(doc: Document, source: string, offset: number): boolean {
  let uniform = true;
  visit(doc, {
    Pair(_, pair) {
      if (!isMovable(pair.value)) return undefined;
      const was = offsetUnderKey(pair.key, pair.value, source);
      if (was === undefined || was === offset) return undefined;
      uniform = false;
      return visit.BREAK;
    },
  });
  return uniform;
}

interface Shift {
  first: number;
  last: number;
  by: number;
}

/**
 * Walks the patched document (whose untouched nodes still carry their source
 * ranges) beside the same value parsed back from the rendered text, and lists
 * for each block sequence under a key how many columns its lines must move.
 */
function collectShifts(
  patched: unknown,
  rendered: unknown,
  source: string,
  text: string,
  starts: readonly number[],
  newOffset: number,
  shifts: Shift[],
): void {
  if (isMap(patched) && isMap(rendered)) {
    patched.items.forEach((pair, i) => {
      const out = rendered.items[i];
      if (!out) return;
      if (isSeq(pair.value) && isMovable(out.value)) {
        const was = offsetUnderKey(pair.key, pair.value, source);
        const now = offsetUnderKey(out.key, out.value, text);
        const range = out.value.range;
        if (now !== undefined && range) {
          const by = (was ?? newOffset) - now;
          if (by > 0) {
            shifts.push({
              first: lineOf(starts, range[0]),
              last: lineOf(starts, Math.max(range[0], range[1] - 1)),
              by,
            });
          }
        }
      }
      collectShifts(pair.value, out.value, source, text, starts, newOffset, shifts);
    });
  } else if (isSeq(patched) && isSeq(rendered)) {
    patched.items.forEach((item, i) => {
      collectShifts(item, rendered.items[i], source, text, starts, newOffset, shifts);
    });
  }
}

/**
 * Re-indents the block sequences of `text` (the patched document written
 * with flush sequences) as they were in `source`; sequences the patch added
 * sit `newOffset` columns right of their key.
 */
export function restoreSequenceIndents(
  doc: Document,
  source: string,
  text: string,
  newOffset: number,
): string {
  const rendered = parseDocument(text, { uniqueKeys: false });
  if (rendered.errors.length > 0) return text;
  const starts = lineStarts(text);
  const lines = text.split("\n");
  const shifts: Shift[] = [];
  collectShifts(doc.contents, rendered.contents, source, text, starts, newOffset, shifts);
  if (shifts.length === 0) return text;
  const extra = new Int32Array(lines.length);
  for (const shift of shifts) {
    for (let line = shift.first; line <= shift.last; line++)
      extra[line] = (extra[line] ?? 0) + shift.by;
  }
  // Blank lines stay blank: spaces there would be content inside a block scalar.
  return lines
    .map((line, i) => (line.trim() === "" ? line : " ".repeat(extra[i] ?? 0) + line))
    .join("\n");
}

/** A line with the spacing before a trailing comment and at its end folded away. */
function layoutFree(line: string): string {
  return line.replace(/[ \t]+(#[^"']*)$/, " $1").trimEnd();
}

/**
 * `text` with each line that matches a line of `source` up to layoutFree
 * (same content, other spacing before a comment) replaced by the source's
 * line, matched in order by a line diff.
 */
export function keepSourceLines(source: string, text: string): string {
  const before = source.split("\n");
  const after = text.split("\n");
  const parts = diffArrays(before, after, {
    comparator: (a, b) => layoutFree(a) === layoutFree(b),
  });
  const out: string[] = [];
  let old = 0;
  let next = 0;
  for (const part of parts) {
    const count = part.count ?? part.value.length;
    if (part.added) {
      out.push(...after.slice(next, next + count));
      next += count;
    } else if (part.removed) {
      old += count;
    } else {
      out.push(...before.slice(old, old + count));
      old += count;
      next += count;
    }
  }
  return out.join("\n");
}
