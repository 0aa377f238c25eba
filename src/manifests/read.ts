import { type Document, parseAllDocuments } from "yaml";
import { describeValue, isRecord, type KubeObject } from "../engine/index.js";
import { kubeValue, YamlValueError } from "./convert.js";
import { fastValue } from "./fast.js";
import { documentLocator, fieldPathSegments } from "./locate.js";
import { YAML_OPTIONS } from "./scalars.js";
import { type DocumentText, type Piece, splitText } from "./split.js";

/** One object found in a manifest file, with where it came from. */
export interface ManifestObject {
  source: string;
  /** 1-based position of the YAML document in its file. */
  document: number;
  /** 1-based line where the document starts. */
  line: number;
  /** Set for objects that came out of a `List`'s items. */
  item: number | undefined;
  /** The chart template of `helm template` output (its `# Source:` comment). */
  template: string | undefined;
  object: KubeObject;
  /**
   * The 1-based line in the file of a field of this object, such as
   * `spec.containers[0].image`, or of its nearest parent the file writes;
   * parses the document again on first use, so only callers that show
   * lines (SARIF) pay for it.
   */
  lineOf: (fieldPath: string) => number | undefined;
}

/** Something in a manifest that cannot be evaluated, with where it is. */
export interface ManifestProblem {
  source: string;
  document: number | undefined;
  line: number | undefined;
  message: string;
  /** The document is not a Kubernetes object (no apiVersion or kind), see --ignore-unknown. */
  unknown?: boolean;
  /** The whole rest of the file is unusable (an unrendered template, a bad separator). */
  fatal?: boolean;
}

export interface ParsedManifests {
  objects: ManifestObject[];
  problems: ManifestProblem[];
}

/** Parses one document's text; a text with a second YAML document (after `...`) keeps both. */
export function parseYaml(text: string): Document.Parsed[] {
  return [...parseAllDocuments(text, YAML_OPTIONS)];
}

function shapeProblem(value: Record<string, unknown>): string | undefined {
  if (value.kind === undefined || value.kind === "") return "has no kind";
  if (typeof value.kind !== "string") return `kind is ${describeValue(value.kind)}, not a string`;
  if (value.apiVersion === undefined || value.apiVersion === "") {
    return `${value.kind} has no apiVersion`;
  }
  if (typeof value.apiVersion !== "string") {
    return `${value.kind} apiVersion is ${describeValue(value.apiVersion)}, not a string`;
  }
  return undefined;
}

const HELM_SOURCE = /^#\s*Source:\s*(\S.*?)\s*$/;

/** The `# Source:` comment `helm template` writes before every document. */
export function templateOf(text: string): string | undefined {
  if (!text.includes("# Source:")) return undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    const found = HELM_SOURCE.exec(trimmed);
    if (found) return found[1];
    // Only the comments heading the document count.
    if (trimmed !== "" && !trimmed.startsWith("#")) return undefined;
  }
  return undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

const TEMPLATE = /\{\{.*\}\}/;

function templateProblem(source: string, piece: DocumentText): ManifestProblem | undefined {
  if (!TEMPLATE.test(piece.text)) return undefined;
  return {
    source,
    document: undefined,
    line: undefined,
    fatal: true,
    message:
      "is a template ({{ … }}), not a manifest; render it first (helm template …) or leave it out",
  };
}

/**
 * The document's value through the full YAML reader, for what the fast one
 * leaves to it; on a problem it adds it to `result` and returns undefined.
 */
function fullValue(piece: DocumentText, source: string, result: ParsedManifests): unknown {
  const { index: document } = piece;
  const problem = (message: string, line: number | undefined = piece.line) =>
    result.problems.push({ source, document, line, message });
  let value: unknown;
  try {
    const docs = parseYaml(piece.text);
    const doc = docs[0];
    if (!doc) return undefined;
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0]?.line;
      const templated = templateProblem(source, piece);
      if (templated) result.problems.push(templated);
      else problem(`invalid YAML: ${error.message.split("\n")[0]}`, at && piece.line + at - 1);
      return undefined;
    }
    if (docs.length > 1) {
      problem(
        "holds a second YAML document after `...`; kubectl reads only the first, so remove it or separate it with ---",
      );
      return undefined;
    }
    value = kubeValue(doc);
  } catch (error) {
    if (error instanceof RangeError) {
      problem("is nested too deeply to read");
      return undefined;
    }
    if (!(error instanceof YamlValueError)) throw error;
    const templated = templateProblem(source, piece);
    if (templated) result.problems.push(templated);
    else {
      const line =
        error.offset === undefined ? piece.line : piece.line + lineAt(piece.text, error.offset) - 1;
      problem(error.message, line);
    }
    return undefined;
  }
  return value;
}

/**
 * The JSON value kubectl would send for one document (null when it is
 * empty), through the fast reader when it can decide and the full one
 * otherwise; undefined, with the problem added to `result`, when there is none.
 */
export function documentValue(
  piece: DocumentText,
  source: string,
  result: ParsedManifests,
): unknown {
  const fast = fastValue(piece.text);
  return fast !== undefined ? fast : fullValue(piece, source, result);
}

/**
 * Reads one document as kubectl would and splits it into objects, opening
 * `List`s. Problems name the document and line.
 */
export function readDocument(piece: DocumentText, source: string): ParsedManifests {
  const result: ParsedManifests = { objects: [], problems: [] };
  const { index: document } = piece;
  const problem = (message: string, line: number | undefined = piece.line) =>
    result.problems.push({ source, document, line, message });
  const value = documentValue(piece, source, result);
  if (value === null || value === undefined) return result;
  if (!isRecord(value)) {
    problem("is not an object");
    return result;
  }
  const template = templateOf(piece.text);
  const shape = shapeProblem(value);
  if (shape) {
    result.problems.push({ source, document, line: piece.line, message: shape, unknown: true });
    return result;
  }
  const locate = documentLocator(piece.text);
  const object = (entry: unknown, item: number | undefined): ManifestObject => ({
    source,
    document,
    line: piece.line,
    item,
    template,
    object: entry as KubeObject,
    lineOf: (fieldPath) => {
      const prefix = item === undefined ? [] : ["items", item];
      const line = locate([...prefix, ...fieldPathSegments(fieldPath)]);
      return line === undefined ? undefined : piece.line + line - 1;
    },
  });
  const kind = value.kind as string;
  if (kind === "List" || (kind.endsWith("List") && Array.isArray(value.items))) {
    const items: unknown[] = Array.isArray(value.items) ? value.items : [];
    items.forEach((entry, item) => {
      const itemProblem = isRecord(entry) ? shapeProblem(entry) : "is not an object";
      if (itemProblem) problem(`items[${item}] ${itemProblem}`);
      else result.objects.push(object(entry, item));
    });
    return result;
  }
  result.objects.push(object(value, undefined));
  return result;
}

/** A problem for a `---` line kubectl refuses. */
export function separatorProblem(
  piece: Extract<Piece, { kind: "separator-error" }>,
  source: string,
): ManifestProblem {
  return { source, document: undefined, line: piece.line, message: piece.message, fatal: true };
}

/**
 * Reads one piece of a stream: a document's objects and problems, and
 * whether reading must stop there (a `---` line kubectl refuses, or an
 * unrendered template), as kubectl stops.
 */
export function readPiece(piece: Piece, source: string): ParsedManifests & { stop: boolean } {
  if (piece.kind === "separator-error") {
    return { objects: [], problems: [separatorProblem(piece, source)], stop: true };
  }
  const read = readDocument(piece, source);
  return { ...read, stop: read.problems.some((p) => p.fatal) };
}

/** Splits multi-document YAML or JSON held in memory into objects, flattening `List`s. */
export function parseManifests(text: string, source: string): ParsedManifests {
  const result: ParsedManifests = { objects: [], problems: [] };
  for (const piece of splitText(text)) {
    const read = readPiece(piece, source);
    result.objects.push(...read.objects);
    result.problems.push(...read.problems);
    if (read.stop) break;
  }
  return result;
}
