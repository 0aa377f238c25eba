import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import {
  evaluate,
  type PatchOperation,
  type PolicySet,
  type ResourceRef,
  toPointer,
} from "../engine/index.js";
import { parseManifests } from "../manifests/read.js";
import { parseDocuments } from "./documents.js";
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

const TO_JS = { maxAliasCount: 100 } as const;

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
  const { docs, spans } = parseDocuments(text);
  if (docs.some((doc) => doc.errors.length > 0)) return unchanged;

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
  const expected = docs.map((doc) => doc.toJS(TO_JS) as unknown);
  const patched: PatchedResource[] = [];
  const changedDocuments = new Set<number>();
  for (const [document, entry] of byDocument) {
    const index = document - 1;
    const doc = docs[index];
    if (!doc) continue;
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

  const json = docs.length === 1 && isJsonText(text);
  const output = json
    ? `${jsonOf(docs[0]?.contents, jsonIndent(text))}${/\r?\n$/.exec(text)?.[0] ?? ""}`
    : spans
        .map(({ start, end }, i) => {
          const original = text.slice(start, end);
          const doc = docs[i];
          return doc && changedDocuments.has(i) ? renderDocument(doc, original) : original;
        })
        .join("");
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

/**
 * Re-reads the output and checks that every document holds exactly what the
 * patch says, so that a formatting bug can never write a wrong manifest.
 */
function matches(output: string, expected: readonly unknown[]): boolean {
  const again = parseDocuments(output).docs;
  if (again.length !== expected.length || again.some((doc) => doc.errors.length > 0)) return false;
  return isDeepStrictEqual(
    again.map((doc) => doc.toJS(TO_JS) as unknown),
    expected,
  );
}
