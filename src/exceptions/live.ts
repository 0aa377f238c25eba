import { exceptionId, type PolicyException } from "./exception.js";
import { type ExceptionIndex, indexExceptions } from "./lookup.js";
import { type ExceptionProblem, type ParsedException, parseException } from "./parse.js";

/**
 * What a source of PolicyException objects (the cluster's watch, in
 * src/cluster) tells the webhook. Objects arrive as the API server sends
 * them and are validated here, not by the source.
 */
export interface ExceptionEvents {
  /** An object was added or changed. */
  upsert(object: unknown): void;
  /** An object was deleted. */
  remove(object: unknown): void;
  /** Listing or watching failed; the source retries by itself. */
  failed(error: Error): void;
}

/** A running source of PolicyException objects. */
export interface ExceptionFeed {
  /**
   * Starts delivering events; settles once the first complete list has been
   * delivered (or the first attempt failed, which `failed` also reports).
   */
  start(events: ExceptionEvents): Promise<void>;
  close(): void;
}

function keyOf(object: unknown): string | undefined {
  const meta =
    object !== null && typeof object === "object"
      ? (object as { metadata?: { namespace?: unknown; name?: unknown } }).metadata
      : undefined;
  if (typeof meta?.namespace !== "string" || typeof meta.name !== "string") return undefined;
  return `${meta.namespace}/${meta.name}`;
}

/**
 * The PolicyExceptions in force while serving, kept current by a feed.
 *
 * An object that fails validation is reported and ignored: every other
 * exception keeps applying, and nothing throws. A bad new version of an
 * exception replaces the good old one rather than leaving it in force: an
 * exception relaxes enforcement, so when its author's latest intent cannot
 * be read, the safe reading is none.
 */
export class LiveExceptions {
  private readonly valid = new Map<string, PolicyException>();
  private readonly invalid = new Map<string, ExceptionProblem>();
  private cached: ExceptionIndex | undefined;

  /** Takes in a new or changed object; says what became of it. */
  upsert(object: unknown): ParsedException {
    const parsed = parseException(object);
    const key = parsed.ok ? exceptionId(parsed.exception) : keyOf(object);
    if (key !== undefined) this.forget(key);
    if (parsed.ok) {
      this.valid.set(exceptionId(parsed.exception), parsed.exception);
      this.cached = undefined;
    } else if (key !== undefined) {
      this.invalid.set(key, parsed.problem);
    }
    return parsed;
  }

  /** Forgets a deleted object; returns its `namespace/name`, when it has one. */
  remove(object: unknown): string | undefined {
    const key = keyOf(object);
    if (key !== undefined) this.forget(key);
    return key;
  }

  private forget(key: string): void {
    if (this.valid.delete(key)) this.cached = undefined;
    this.invalid.delete(key);
  }

  /** The exceptions in force, by namespace; rebuilt only after a change. */
  index(): ExceptionIndex {
    this.cached ??= indexExceptions(this.valid.values());
    return this.cached;
  }

  /** Every usable exception, in (namespace, name) order. */
  all(): PolicyException[] {
    return [...this.index().values()].flat();
  }

  counts(): { valid: number; invalid: number } {
    return { valid: this.valid.size, invalid: this.invalid.size };
  }
}
