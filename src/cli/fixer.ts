import { isDeepStrictEqual } from "node:util";
import {
  evaluate,
  type PatchOperation,
  type PolicySet,
  type ResourceRef,
  toPointer,
} from "../engine/index.js";
import { kubeValue } from "../manifests/convert.js";
import { documentValue, type ManifestObject, parseYaml, readPiece } from "../manifests/read.js";
import { type DocumentText, splitText } from "../manifests/split.js";
import type { InputProblem } from "./inputs.js";
import { admissionInputFor, resourceFor } from "./resources.js";
import { insertKeys } from "./yaml-insert.js";
import {
  applyOperation,
  isJsonText,
  jsonIndent,
  jsonOf,
  PatchApplyError,
  renderDocument,
  withPatch,
} from "./yaml-patch.js";

/** One object `fix` changed. */
export interface PatchedResource {
  resource: ResourceRef;
  document: number;
  item: number | undefined;
  mutatedBy: string[];
  patch: PatchOperation[];
}

export interface FixedText {
  /** The new text; the original text when nothing changed. */
  text: string;
  changed: boolean;
  patched: PatchedResource[];
  problems: InputProblem[];
}

export interface FixOptions {
  set: PolicySet;
  /** Namespace assumed for namespaced objects that set none. */
  namespace: string | undefined;
}

/**
 * Applies the mutations the webhook would make to every object in `text`,
 * one document at a time: a document is parsed into a YAML syntax tree
 * only when it gets a patch, the patch is applied to that tree, and only
 * that document is written anew, so comments, key order, quoting and
 * untouched documents stay as they are. JSON stays JSON. A file with a
 * document that cannot be read (YAML syntax errors, an alias bomb) is
 * returned unchanged, with the problems.
 */
export function fixText(text: string, source: string, options: FixOptions): FixedText {
  const problems: InputProblem[] = [];
  const unchanged = (): FixedText => ({ text, changed: false, patched: [], problems });
  const patched: PatchedResource[] = [];
  const json = isJsonText(text);
  let out = "";
  let at = 0;
  for (const piece of splitText(text)) {
    const read = readPiece(piece, source);
    problems.push(...read.problems);
    if (piece.kind !== "document" || read.problems.some((p) => !p.unknown)) return unchanged();
    const fixed = fixDocument(piece, read.objects, { ...options, source, json });
    if (fixed.problem) problems.push(fixed.problem);
    if (fixed.text === undefined) continue;
    patched.push(...fixed.patched);
    out += text.slice(at, piece.start) + fixed.text;
    at = piece.end;
  }
  if (patched.length === 0) return unchanged();
  out += text.slice(at);
  return { text: out, changed: out !== text, patched, problems };
}

/** One document with its patches applied, or why it stays as it is. */
interface FixedDocument {
  /** The new text of the document; undefined when it stays as written. */
  text?: string;
  patched: PatchedResource[];
  problem?: InputProblem;
}

function fixDocument(
  piece: DocumentText,
  objects: readonly ManifestObject[],
  options: FixOptions & { source: string; json: boolean },
): FixedDocument {
  const { source } = options;
  const patched: PatchedResource[] = [];
  const ops: PatchOperation[] = [];
  for (const manifest of objects) {
    const verdict = evaluate(admissionInputFor(manifest.object, options.namespace), options.set, {
      mode: "enforce",
      phase: "mutate",
    });
    if (verdict.patch.length === 0) continue;
    // Paths made absolute within the document, for objects inside a List.
    const prefix = manifest.item === undefined ? "" : toPointer(["items", manifest.item]);
    patched.push({
      resource: resourceFor(manifest.object, options.namespace),
      document: manifest.document,
      item: manifest.item,
      mutatedBy: verdict.mutatedBy,
      patch: verdict.patch,
    });
    ops.push(...verdict.patch.map((op) => ({ ...op, path: `${prefix}${op.path}` })));
  }
  if (ops.length === 0) return { patched: [] };
  // A patch that only adds keys is written as new lines; the rest of the text stays byte for byte.
  const inserted = options.json ? undefined : insertKeys(piece.text, ops);
  if (inserted && readsAs(piece, inserted.text, source, inserted.expected)) {
    return { text: inserted.text, patched };
  }
  const [doc] = parseYaml(piece.text);
  if (!doc) return { patched: [] };
  const refused = (message: string): FixedDocument => ({
    patched: [],
    problem: { source, document: piece.index, message },
  });
  let expected: unknown;
  try {
    // What the document must read as afterwards: its value with the patch applied.
    expected = withPatch(kubeValue(doc), ops);
    for (const op of ops) applyOperation(doc, op);
  } catch (error) {
    if (!(error instanceof PatchApplyError)) throw error;
    // The tree may be half-patched; it is simply not written.
    return refused(
      `cannot fix this document automatically (${error.message}); it is left unchanged`,
    );
  }
  const text = options.json
    ? `${jsonOf(doc.contents, jsonIndent(piece.text))}${/\r?\n$/.exec(piece.text)?.[0] ?? ""}`
    : renderDocument(doc, piece.text);
  if (!readsAs(piece, text, source, expected)) {
    return refused(
      "the fixed text did not read back as the patched objects, so the document is left unchanged (please report this)",
    );
  }
  return { text, patched };
}

/**
 * A formatting bug must never write a wrong manifest: the new text of a
 * document is read back and must hold exactly the patched value.
 */
function readsAs(piece: DocumentText, text: string, source: string, expected: unknown): boolean {
  const again = documentValue({ ...piece, text }, source, { objects: [], problems: [] });
  return isDeepStrictEqual(again, expected);
}
