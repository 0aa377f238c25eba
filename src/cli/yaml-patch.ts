import jsonpatch from "fast-json-patch";
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { type PatchOperation, parsePointer } from "../engine/index.js";
import { keepSourceLines, restoreSequenceIndents, sequencesAllAt } from "./yaml-layout.js";

/** A patch that cannot be applied to the document as written. */
export class PatchApplyError extends Error {
  override name = "PatchApplyError";
}

/**
 * `value` with `ops` applied (in place), as JSON Patch defines it. The
 * operations' values are copied first: the library would otherwise put them
 * into the document itself, where later operations edit them.
 */
export function withPatch(value: unknown, ops: readonly PatchOperation[]): unknown {
  return jsonpatch.applyPatch(value, jsonpatch.deepClone(ops), true, true).newDocument;
}

/** The operation's path as segments; a path that is not a JSON pointer cannot be applied. */
function segmentsOf(pointer: string): string[] {
  const segments = parsePointer(pointer);
  if (!segments) throw new PatchApplyError(`invalid JSON pointer "${pointer}"`);
  return segments;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => keyText(pair.key) === key);
}

function indexOf(seq: YAMLSeq, segment: string, forInsert: boolean, at: string): number {
  const size = seq.items.length;
  if (forInsert && segment === "-") return size;
  if (!/^(0|[1-9]\d*)$/.test(segment)) throw new PatchApplyError(`${at}: not an array index`);
  const index = Number(segment);
  if (index > size || (!forInsert && index === size)) {
    throw new PatchApplyError(`${at}: index out of range`);
  }
  return index;
}

function where(segments: readonly string[]): string {
  return `/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

/**
 * Walks down the AST. Editing under an alias or an anchored node would also
 * change every other place that shares it, so such paths are refused.
 */
function walk(root: unknown, segments: readonly string[]): unknown {
  let node = root;
  segments.forEach((segment, i) => {
    const at = where(segments.slice(0, i + 1));
    if (isAlias(node)) {
      throw new PatchApplyError(`${at}: goes through the YAML alias *${node.source}`);
    }
    if (isCollection(node) && node.anchor) {
      throw new PatchApplyError(`${at}: goes through the YAML anchor &${node.anchor}`);
    }
    if (isMap(node)) node = pairOf(node, segment)?.value;
    else if (isSeq(node)) node = node.items[indexOf(node, segment, false, at)];
    else throw new PatchApplyError(`${at}: parent is not an object or array`);
    if (node === undefined) throw new PatchApplyError(`${at}: does not exist`);
  });
  if (isAlias(node)) {
    throw new PatchApplyError(`${where(segments)}: is the YAML alias *${node.source}`);
  }
  if (isCollection(node) && node.anchor) {
    throw new PatchApplyError(`${where(segments)}: is the YAML anchor &${node.anchor}`);
  }
  return node;
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/**
 * The node that replaces `old`. A scalar replaced by a scalar of the same
 * type keeps its node, so its quoting and trailing comment survive.
 */
function replacement(doc: Document, old: unknown, value: unknown): unknown {
  if (isScalar(old) && isPrimitive(value) && typeof old.value === typeof value) {
    old.value = value;
    return old;
  }
  const node = doc.createNode(value);
  if (isNode(old)) {
    node.commentBefore = old.commentBefore;
    node.comment = old.comment;
    node.spaceBefore = old.spaceBefore;
  }
  return node;
}

/** Applies one operation; `base` locates the patched object inside the document (List items). */
export function applyOperation(
  doc: Document,
  op: PatchOperation,
  base: readonly string[] = [],
): void {
  const segments = [...base, ...segmentsOf(op.path)];
  const last = segments.at(-1);
  if (last === undefined) {
    if (op.op === "remove") throw new PatchApplyError("cannot remove the whole document");
    doc.contents = doc.createNode(op.value) as Node;
    return;
  }
  const at = where(segments);
  const parent = walk(doc.contents, segments.slice(0, -1));
  if (isMap(parent)) {
    const pair = pairOf(parent, last);
    if (op.op === "remove" || op.op === "replace") {
      if (!pair) throw new PatchApplyError(`${at}: does not exist`);
    }
    if (op.op === "remove") {
      parent.items.splice(parent.items.indexOf(pair as Pair), 1);
    } else if (pair) {
      pair.value = replacement(doc, pair.value, op.value);
    } else {
      // Appended, so the keys already there keep their order.
      parent.items.push(doc.createPair(last, op.value));
    }
    return;
  }
  if (isSeq(parent)) {
    const index = indexOf(parent, last, op.op === "add", at);
    if (op.op === "add") parent.items.splice(index, 0, doc.createNode(op.value));
    else if (op.op === "remove") parent.items.splice(index, 1);
    else parent.items[index] = replacement(doc, parent.items[index], op.value);
    return;
  }
  throw new PatchApplyError(`${at}: parent is not an object or array`);
}

/** How a document is laid out, so that a re-serialized document looks like its source. */
export interface YamlStyle {
  indent: number;
  indentSeq: boolean;
  flowCollectionPadding: boolean;
}

/** Guesses indentation and sequence style from the text of one document. */
export function detectStyle(text: string): YamlStyle {
  const lines = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  const widths = lines.map((line) => line.length - line.trimStart().length).filter((n) => n > 0);
  const indent = Math.min(8, Math.max(1, widths.length > 0 ? Math.min(...widths) : 2));
  let indented = 0;
  let flush = 0;
  lines.forEach((line, i) => {
    const next = lines[i + 1];
    if (!next || !/:\s*(#.*)?$/.test(line) || !next.trimStart().startsWith("- ")) return;
    const own = line.length - line.trimStart().length;
    const own2 = line.trimStart().startsWith("- ") ? own + 2 : own;
    const nextIndent = next.length - next.trimStart().length;
    if (nextIndent === own2) flush++;
    else if (nextIndent > own2) indented++;
  });
  // `{ a: 1 }` or `{a: 1}`, `[ x ]` or `[x]`: whichever the document uses more.
  const padded = (text.match(/[{[] \S/g) ?? []).length;
  const tight = (text.match(/[{[][^\s\]}{[]/g) ?? []).length;
  return {
    indent,
    indentSeq: flush === 0 || indented >= flush,
    flowCollectionPadding: padded >= tight,
  };
}

/**
 * How many columns right of its key a block sequence's dashes sit in this
 * style: the library writes flush sequences inside the indentation, two
 * columns left of where a nested mapping's keys go (an indent of one has no
 * room for that and keeps it).
 */
export function sequenceOffset(style: YamlStyle): number {
  if (style.indentSeq) return style.indent;
  return style.indent >= 2 ? style.indent - 2 : style.indent;
}

/**
 * The new text of one document whose AST was patched. `original` is the
 * document's source span: its leading blank lines, line endings and final
 * newline (or lack of it) are kept.
 */
export function renderDocument(doc: Document, original: string): string {
  const lead = /^(?:[ \t]*\r?\n)*/.exec(original)?.[0] ?? "";
  const style = detectStyle(original);
  const options = { ...style, lineWidth: 0, minContentWidth: 0 };
  const majority = sequenceOffset(style);
  // One style throughout: the library writes every sequence where it was.
  // Mixed: written flush, then each sequence is moved back to its place.
  let body: string;
  if (sequencesAllAt(doc, original, majority)) body = doc.toString(options);
  else {
    body = doc.toString({ ...options, indentSeq: false });
    body = restoreSequenceIndents(doc, original, body, majority);
  }
  if (!original.endsWith("\n")) body = body.replace(/\n$/, "");
  if (original.includes("\r\n")) body = body.replace(/\r?\n/g, "\r\n");
  return keepSourceLines(original, lead + body);
}

/** True for text that is one JSON value, which `fix` must write back as JSON. */
export function isJsonText(text: string): boolean {
  const start = text.trimStart()[0];
  if (start !== "{" && start !== "[") return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The indentation unit of JSON text; "" for JSON written on one line. */
export function jsonIndent(text: string): string {
  return /\n([ \t]+)\S/.exec(text.trim())?.[1] ?? "";
}

/**
 * Writes a parsed JSON document back as JSON, walking the AST so that key
 * order is exactly the source's (a plain object would move numeric keys first).
 */
export function jsonOf(node: unknown, indent: string, depth = 0): string {
  const inner = indent ? `\n${indent.repeat(depth + 1)}` : "";
  const outer = indent ? `\n${indent.repeat(depth)}` : "";
  const colon = indent ? ": " : ":";
  if (isMap(node)) {
    if (node.items.length === 0) return "{}";
    const entries = node.items.map(
      (pair) =>
        `${inner}${JSON.stringify(keyText(pair.key))}${colon}${jsonOf(pair.value, indent, depth + 1)}`,
    );
    return `{${entries.join(",")}${outer}}`;
  }
  if (isSeq(node)) {
    if (node.items.length === 0) return "[]";
    const entries = node.items.map((item) => `${inner}${jsonOf(item, indent, depth + 1)}`);
    return `[${entries.join(",")}${outer}]`;
  }
  if (isScalar(node)) return JSON.stringify(node.value ?? null);
  if (node === null || node === undefined) return "null";
  throw new PatchApplyError("JSON documents cannot hold YAML aliases");
}
