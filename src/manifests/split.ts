/*
 * Splits a stream into documents exactly where kubectl does: at lines that
 * start with `---` followed by nothing but spaces or a comment. Each piece
 * is then read as one YAML document. Splitting by lines lets a stream of any
 * length be read one document at a time.
 */

/** One document's text, with where it sits in its file. */
export interface DocumentText {
  /** 1-based, counting every piece between separators, as kubectl does. */
  index: number;
  /** 1-based line of the document's first line. */
  line: number;
  /** `[start, end)` offsets in the whole stream (separator lines excluded). */
  start: number;
  end: number;
  text: string;
}

/** A `---` line kubectl refuses; it reads nothing after it. */
export interface SeparatorProblem {
  line: number;
  message: string;
}

export type Piece =
  | ({ kind: "document" } & DocumentText)
  | ({ kind: "separator-error" } & SeparatorProblem);

/** Feeds lines (each with its line ending) and hands out finished documents. */
export class DocumentSplitter {
  private buffer: string[] = [];
  private start = 0;
  private startLine = 1;
  private offset = 0;
  private lineNumber = 0;
  private count = 0;
  private stopped = false;

  line(text: string): Piece | undefined {
    if (this.stopped) return undefined;
    this.lineNumber++;
    const at = this.offset;
    this.offset += text.length;
    if (text.startsWith("---")) {
      const rest = text.slice(3).trim();
      if (rest !== "" && !rest.startsWith("#")) {
        this.stopped = true;
        return {
          kind: "separator-error",
          line: this.lineNumber,
          message: `"${text.trim().slice(0, 60)}" is not a document separator kubectl accepts (only a comment may follow ---); kubectl reads nothing after it, so neither does tollgate`,
        };
      }
      const done = this.flush(at);
      this.start = this.offset;
      this.startLine = this.lineNumber + 1;
      return done;
    }
    if (this.buffer.length === 0) {
      this.start = at;
      this.startLine = this.lineNumber;
    }
    this.buffer.push(text);
    return undefined;
  }

  end(): Piece | undefined {
    return this.stopped ? undefined : this.flush(this.offset);
  }

  private flush(end: number): Piece | undefined {
    if (this.buffer.length === 0) return undefined;
    const text = this.buffer.join("");
    this.buffer = [];
    this.count++;
    return {
      kind: "document",
      index: this.count,
      line: this.startLine,
      start: this.start,
      end,
      text,
    };
  }
}

/**
 * The pieces of a text held in memory, one at a time: a piece the caller is
 * done with can be collected before the next is cut (a copy of each
 * document's text, which for a 40 MiB file would double what `fix` holds).
 */
export function* splitText(text: string): Generator<Piece> {
  const splitter = new DocumentSplitter();
  let from = 0;
  while (from < text.length) {
    const newline = text.indexOf("\n", from);
    const to = newline === -1 ? text.length : newline + 1;
    const piece = splitter.line(text.slice(from, to));
    if (piece) yield piece;
    from = to;
  }
  const last = splitter.end();
  if (last) yield last;
}

/** The pieces of a stream, as its chunks arrive; memory holds one document at a time. */
export async function* splitStream(chunks: AsyncIterable<string>): AsyncGenerator<Piece> {
  const splitter = new DocumentSplitter();
  // The start of a line that continues in the next chunk; kept in parts so
  // that a very long line costs linear time.
  let partial: string[] = [];
  for await (const chunk of chunks) {
    let from = 0;
    for (let newline = chunk.indexOf("\n"); newline !== -1; newline = chunk.indexOf("\n", from)) {
      partial.push(chunk.slice(from, newline + 1));
      const piece = splitter.line(partial.join(""));
      partial = [];
      if (piece) yield piece;
      from = newline + 1;
    }
    if (from < chunk.length) partial.push(chunk.slice(from));
  }
  if (partial.length > 0) {
    const piece = splitter.line(partial.join(""));
    if (piece) yield piece;
  }
  const last = splitter.end();
  if (last) yield last;
}
