import { isRecord, type PatchOperation, parsePointer } from "../engine/index.js";
import { fastValue, type ReadListener } from "../manifests/fast.js";
import { resolvePlain } from "../manifests/scalars.js";
import { detectStyle, sequenceOffset, withPatch } from "./yaml-patch.js";

/*
 * Nearly every patch the mutating policies make only adds keys that are
 * missing (a securityContext, a default). For such a patch on a plain
 * document, the new keys are written as lines of text straight after the
 * last line of the mapping they join, in the document's indentation, and
 * every other byte stays as it was. This needs where each mapping sits in
 * the text, which the fast reader can report as it reads (js-yaml tells a
 * listener where each node opens and closes): a syntax tree from the `yaml`
 * library, rebuilt and written whole, costs about ten times as much
 * (docs/benchmarks.md). Any other patch, or a document the fast reader
 * leaves to the full one, goes through the syntax tree (yaml-patch.ts).
 */

/** Where a block mapping sits in the text. */
interface MappingSpan {
  /** Column of its keys. */
  column: number;
  /** Offset just after the last character of its last value. */
  end: number;
}

const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

/**
 * The document's value as the fast reader gives it, with the span of each
 * block mapping in it (flow mappings, `{ a: 1 }`, are left out); undefined
 * when the fast reader leaves the document to the full one.
 */
function readSpans(text: string): { value: unknown; spans: Map<object, MappingSpan> } | undefined {
  const spans = new Map<object, MappingSpan>();
  // One entry per node being read: the column of its first child (for a
  // mapping, its first key) and the furthest end of what it holds so far.
  const columns: number[] = [];
  const ends: number[] = [];
  const listener: ReadListener = (event, state) => {
    const top = columns.length - 1;
    if (event === "open") {
      if (top >= 0 && columns[top] === -1) columns[top] = state.position - state.lineStart;
      columns.push(-1);
      ends.push(-1);
      return;
    }
    const column = columns.pop() as number;
    let end = ends.pop() as number;
    const { position, result, kind } = state;
    const last = state.input.charCodeAt(position - 1);
    if (kind === "scalar") {
      // An empty value reads as null and closes where the next node starts.
      if (result !== null) end = position;
    } else if (last === CLOSE_BRACE || last === CLOSE_BRACKET) {
      end = position;
    } else if (kind === "mapping" && isRecord(result) && column >= 0) {
      spans.set(result, { column, end });
    }
    if (top > 0 && end > (ends[top - 1] as number)) ends[top - 1] = end;
  };
  const value = fastValue(text, listener);
  return value === undefined ? undefined : { value, spans };
}

/** Offset of the start of the line after the one holding the last non-blank character before `end`. */
function lineAfter(text: string, end: number): number {
  let at = end;
  while (at > 0 && /\s/.test(text[at - 1] as string)) at--;
  const newline = text.indexOf("\n", at);
  return newline === -1 ? text.length : newline + 1;
}

/** Strings that read back as themselves without quotes, in kubectl's YAML 1.1 too. */
const BARE = /^[\w./][\w./-]*$/;

function scalarText(value: unknown): string {
  if (typeof value === "string") {
    return BARE.test(value) && resolvePlain(value) === value ? value : JSON.stringify(value);
  }
  if (isRecord(value)) return "{}";
  if (Array.isArray(value)) return "[]";
  return String(value);
}

function isFilled(value: unknown): value is Record<string, unknown> | unknown[] {
  return isRecord(value) ? Object.keys(value).length > 0 : Array.isArray(value) && value.length > 0;
}

interface Layout {
  /** Columns between a key and the keys of the mapping under it. */
  indent: number;
  /** Columns between a key and the dashes of the sequence under it. */
  sequence: number;
}

/** The lines of a non-empty collection whose content starts at `column`. */
function contentLines(
  value: Record<string, unknown> | unknown[],
  column: number,
  layout: Layout,
  out: string[],
): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      const first = out.length;
      if (isFilled(item)) contentLines(item, column + 2, layout, out);
      else out.push(`${" ".repeat(column + 2)}${scalarText(item)}`);
      out[first] = `${" ".repeat(column)}- ${(out[first] as string).slice(column + 2)}`;
    }
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const head = `${" ".repeat(column)}${scalarText(key)}:`;
    if (!isFilled(item)) out.push(`${head} ${scalarText(item)}`);
    else {
      out.push(head);
      const offset = Array.isArray(item) ? layout.sequence : layout.indent;
      contentLines(item, column + offset, layout, out);
    }
  }
}

interface Insertion {
  at: number;
  column: number;
  parent: Record<string, unknown>;
  key: string;
}

/** The value at `segments` in `value`, through existing keys and items only. */
function lookup(value: unknown, segments: readonly string[]): unknown {
  let node = value;
  for (const segment of segments) {
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(segment)) node = node[Number(segment)];
    else if (isRecord(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

function startsWith(segments: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= segments.length && prefix.every((segment, i) => segments[i] === segment);
}

/**
 * The document's text with a patch applied that only adds missing keys to
 * block mappings, and the value that text must read as; undefined for any
 * other patch or a document the fast reader does not read. The caller still
 * reads the text back and compares.
 */
export function insertKeys(
  text: string,
  ops: readonly PatchOperation[],
): { text: string; expected: unknown } | undefined {
  const read = readSpans(text);
  if (!read) return undefined;
  const insertions: Insertion[] = [];
  const added: string[][] = [];
  for (const op of ops) {
    if (op.op !== "add") return undefined;
    const segments = parsePointer(op.path);
    if (!segments) return undefined;
    // Under a key this patch adds: written with that key, from the patched value.
    if (added.some((path) => startsWith(segments, path))) continue;
    const key = segments.at(-1);
    const parent = lookup(read.value, segments.slice(0, -1));
    if (key === undefined || !isRecord(parent) || Object.hasOwn(parent, key)) return undefined;
    const span = read.spans.get(parent);
    if (!span) return undefined;
    insertions.push({ at: lineAfter(text, span.end), column: span.column, parent, key });
    added.push(segments);
  }
  let expected: unknown;
  try {
    expected = withPatch(read.value, ops);
  } catch {
    // The syntax tree's way names the problem.
    return undefined;
  }
  const style = detectStyle(text);
  const layout = { indent: style.indent, sequence: sequenceOffset(style) };
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  // Where two mappings end on one line, the inner one's keys go first.
  insertions.sort((a, b) => a.at - b.at || b.column - a.column);
  let out = "";
  let from = 0;
  for (const { at, column, parent, key } of insertions) {
    const lines: string[] = [];
    contentLines({ [key]: parent[key] }, column, layout, lines);
    const block = lines.join(eol);
    out += text.slice(from, at);
    out += at === text.length && !text.endsWith("\n") ? `${eol}${block}` : `${block}${eol}`;
    from = at;
  }
  return { text: out + text.slice(from), expected };
}
