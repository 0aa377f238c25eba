import { LineCounter, parseAllDocuments } from "yaml";
import type { KubeObject } from "../engine/index.js";

/** One object found in a manifest file, with where it came from. */
export interface ManifestObject {
  source: string;
  /** 1-based position of the YAML document in its file. */
  document: number;
  /** Set for objects that came out of a `List`'s items. */
  item: number | undefined;
  object: KubeObject;
}

/** Something in a manifest that cannot be evaluated, with where it is. */
export interface ManifestProblem {
  source: string;
  document: number;
  line: number | undefined;
  message: string;
}

export interface ParsedManifests {
  objects: ManifestObject[];
  problems: ManifestProblem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function shapeProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value.kind !== "string" || value.kind === "") return "has no kind";
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") {
    return `${value.kind} has no apiVersion`;
  }
  return undefined;
}

/** Splits multi-document YAML or JSON into objects, flattening `List`s. */
export function parseManifests(text: string, source: string): ParsedManifests {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  const result: ParsedManifests = { objects: [], problems: [] };
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const document = i + 1;
    // The first line of content, not the `---` that opens the document.
    const start = doc.contents?.range?.[0] ?? doc.range?.[0];
    const line = start === undefined ? undefined : lines.linePos(start).line;
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0]?.line ?? line;
      result.problems.push({
        source,
        document,
        line: at,
        message: `invalid YAML: ${error.message.split("\n")[0]}`,
      });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (!isRecord(value)) {
      result.problems.push({ source, document, line, message: "is not an object" });
      return;
    }
    const problem = shapeProblem(value);
    if (problem) {
      result.problems.push({ source, document, line, message: problem });
      return;
    }
    if (
      value.kind === "List" ||
      (typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items))
    ) {
      const items = Array.isArray(value.items) ? value.items : [];
      items.forEach((entry: unknown, item) => {
        const itemProblem = isRecord(entry) ? shapeProblem(entry) : "is not an object";
        if (itemProblem) {
          result.problems.push({
            source,
            document,
            line,
            message: `items[${item}] ${itemProblem}`,
          });
        } else {
          result.objects.push({ source, document, item, object: entry as KubeObject });
        }
      });
      return;
    }
    result.objects.push({ source, document, item: undefined, object: value as KubeObject });
  });
  return result;
}
