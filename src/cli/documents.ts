import { type Document, parseAllDocuments } from "yaml";

/** A YAML stream split into documents, each with the exact text it came from. */
export interface SourceDocuments {
  docs: Document.Parsed[];
  /**
   * `[start, end)` offsets of each document's text. The spans are contiguous
   * and cover the whole stream, so joining them gives the text back.
   */
  spans: { start: number; end: number }[];
}

/** Parses the way `parseManifests` does, so document numbers agree with it. */
export function parseDocuments(text: string): SourceDocuments {
  const docs = [...parseAllDocuments(text, { uniqueKeys: false })];
  const spans: { start: number; end: number }[] = [];
  let start = 0;
  docs.forEach((doc, i) => {
    const end = i === docs.length - 1 ? text.length : Math.max(start, doc.range[2]);
    spans.push({ start, end });
    start = end;
  });
  return { docs, spans };
}

const HELM_SOURCE = /^#\s*Source:\s*(\S.*?)\s*$/;

/**
 * The chart template each document came from, read from the `# Source:`
 * comments `helm template` writes before every document.
 */
export function helmTemplates(text: string): (string | undefined)[] {
  if (!text.includes("# Source:")) return [];
  const { spans } = parseDocuments(text);
  return spans.map(({ start, end }) => {
    for (const line of text.slice(start, end).split(/\r?\n/)) {
      const trimmed = line.trim();
      const found = HELM_SOURCE.exec(trimmed);
      if (found) return found[1];
      // Only the comments heading the document count.
      if (trimmed !== "" && trimmed !== "---" && !trimmed.startsWith("#")) return undefined;
    }
    return undefined;
  });
}
