import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import type { Document } from "yaml";
import {
  evaluate,
  type PatchOperation,
  type PolicySet,
  type ResourceRef,
  toPointer,
} from "../engine/index.js";
import { kubeValue } from "../manifests/convert.js";
import { parseManifests, parseYaml } from "../manifests/read.js";
import { type DocumentText, splitText } from "../manifests/split.js";
import type { InputProblem } from "./inputs.js";
import { admissionInputFor, resourceFor } from "./resources.js";
import {
  applyOperation,
  isJsonText,
  jsonIndent,
  jsonOf,
  PatchApplyError,
  renderDocument,
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

/** The documents of a text, parsed; undefined when one cannot be read. */
function documentsOf(text: string): { piece: DocumentText; doc: Document.Parsed }[] | undefined {
  const out: { piece: DocumentText; doc: Document.Parsed }[] = [];
  for (const piece of splitText(text)) {
    if (piece.kind !== "document") return undefined;
    const [doc, extra] = parseYaml(piece.text);
    if (!doc) continue;
    if (doc.errors.length > 0 || extra) return undefined;
    out.push({ piece, doc });
  }
  return out;
}

/** Every document's value, as kubectl reads it; undefined when one cannot be read. */
function valuesOf(documents: readonly { doc: Document.Parsed }[]): unknown[] | undefined {
  try {
    return documents.map(({ doc }) => kubeValue(doc));
  } catch {
    return undefined;
  }
}

/**
 * Applies the mutations the webhook would make to every object in `text`.
 * Each patch is applied to the YAML AST of its document, and only changed
 * documents are re-serialized: comments, key order, quoting and untouched
 * documents stay as they are. JSON stays JSON. A file with YAML syntax
 * errors is returned unchanged, with the errors as problems.
 */
export function fixText(text: string, source: string, options: FixOptions): FixedText {
  const parsed = parseManifests(text, source);
  const problems: InputProblem[] = [...parsed.problems];
  const unchanged: FixedText = { text, changed: false, patched: [], problems };
  const documents = documentsOf(text);
  if (!documents) return unchanged;
  const byIndex = new Map(documents.map((d, i) => [d.piece.index, i]));

  // Each document's patches, with paths made absolute within the document.
  const byDocument = new Map<number, { patched: PatchedResource[]; ops: PatchOperation[] }>();
  for (const manifest of parsed.objects) {
    const verdict = evaluate(admissionInputFor(manifest.object, options.namespace), options.set, {
      mode: "enforce",
      phase: "mutate",
    });
    if (verdict.patch.length === 0) continue;
    const prefix = manifest.item === undefined ? "" : toPointer(["items", manifest.item]);
    const entry = byDocument.get(manifest.document) ?? { patched: [], ops: [] };
    entry.patched.push({
      resource: resourceFor(manifest.object, options.namespace),
      document: manifest.document,
      item: manifest.item,
      mutatedBy: verdict.mutatedBy,
      patch: verdict.patch,
    });
    entry.ops.push(...verdict.patch.map((op) => ({ ...op, path: `${prefix}${op.path}` })));
    byDocument.set(manifest.document, entry);
  }
  if (byDocument.size === 0) return unchanged;

  // What each document must read as afterwards: the plain-object patch result.
  const expected = valuesOf(documents);
  if (!expected) return unchanged;
  const patched: PatchedResource[] = [];
  const changedDocuments = new Set<number>();
  for (const [document, entry] of byDocument) {
    const index = byIndex.get(document);
    const doc = index === undefined ? undefined : documents[index]?.doc;
    if (index === undefined || !doc) continue;
    try {
      for (const op of entry.ops) applyOperation(doc, op);
      expected[index] = jsonpatch.applyPatch(
        structuredClone(expected[index]),
        entry.ops,
        true,
        true,
      ).newDocument;
      changedDocuments.add(index);
      patched.push(...entry.patched);
    } catch (error) {
      if (!(error instanceof PatchApplyError)) throw error;
      problems.push({
        source,
        document,
        message: `cannot fix this document automatically (${error.message}); it is left unchanged`,
      });
      // The AST may be half-patched; it is simply not written.
    }
  }
  if (changedDocuments.size === 0) return { ...unchanged, problems };

  const json = documents.length === 1 && isJsonText(text);
  const output = json
    ? `${jsonOf(documents[0]?.doc.contents, jsonIndent(text))}${/\r?\n$/.exec(text)?.[0] ?? ""}`
    : replaceDocuments(text, documents, changedDocuments);
  if (!matches(output, expected)) {
    problems.push({
      source,
      message:
        "the fixed text did not read back as the patched objects, so the file is left unchanged (please report this)",
    });
    return unchanged;
  }
  return { text: output, changed: output !== text, patched, problems };
}

/** The text with each changed document written anew and everything else as it was. */
function replaceDocuments(
  text: string,
  documents: readonly { piece: DocumentText; doc: Document.Parsed }[],
  changed: ReadonlySet<number>,
): string {
  let out = "";
  let at = 0;
  documents.forEach(({ piece, doc }, i) => {
    if (!changed.has(i)) return;
    out += text.slice(at, piece.start) + renderDocument(doc, piece.text);
    at = piece.end;
  });
  return out + text.slice(at);
}

/**
 * Re-reads the output and checks that every document holds exactly what the
 * patch says, so that a formatting bug can never write a wrong manifest.
 */
function matches(output: string, expected: readonly unknown[]): boolean {
  const again = documentsOf(output);
  const values = again && valuesOf(again);
  return values !== undefined && isDeepStrictEqual(values, expected);
}
