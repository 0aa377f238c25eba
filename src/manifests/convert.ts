import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Scalar,
  visit,
  type YAMLMap,
} from "yaml";
import { MERGE_TAG, resolvePlain, resolveTagged, ScalarTagError } from "./scalars.js";

/** A document that parses as YAML but has no JSON value kubectl would send. */
export class YamlValueError extends Error {
  override name = "YamlValueError";
  constructor(
    message: string,
    /** Offset in the document's text, when known. */
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

/** Kubernetes objects nest a few dozen levels; deeper is hostile input. */
export const MAX_DEPTH = 512;
/**
 * Aliases may add at most this many values, or as many as the document
 * itself holds when that is more: enough for any real use of anchors, and a
 * firm stop for "billion laughs" documents whose aliases multiply.
 */
export const MIN_ALIAS_BUDGET = 10_000;

function offsetOf(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}

function countNodes(doc: Document): number {
  let count = 0;
  visit(doc, {
    Node: () => {
      count++;
    },
  });
  return count;
}

/** Own property even for `__proto__`, which plain assignment would treat as the prototype. */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** Go's `strconv.FormatFloat(v, 'g', -1, 32)`, which sigs.k8s.io/yaml uses for float keys. */
function float32Key(value: number): string {
  if (Number.isNaN(value)) return ".nan";
  if (!Number.isFinite(value)) return value > 0 ? ".inf" : "-.inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const single = Math.fround(value);
  let digits = 1;
  while (digits < 9 && Math.fround(Number(single.toPrecision(digits))) !== single) digits++;
  const [mantissa = "", exponentText = "0"] = single.toExponential(digits - 1).split("e");
  const exponent = Number(exponentText);
  // Go switches to an exponent at 1e+06 for the shortest form.
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(Number(single.toPrecision(digits)));
}

/**
 * Turns one parsed YAML document into the JSON value kubectl would send to
 * the API server: YAML 1.1 scalars as go-yaml v2 reads them, merge keys
 * (`<<`) applied in document order with later keys winning, duplicate keys
 * resolved to the last one, keys turned into strings, and aliases expanded
 * within a budget.
 */
export function kubeValue(doc: Document): unknown {
  return new Reader(doc).value(doc.contents, 0, false);
}

class Reader {
  private expanded = 0;
  private budget: number | undefined;
  private readonly open = new Set<unknown>();

  constructor(private readonly doc: Document) {}

  value(node: unknown, depth: number, viaAlias: boolean): unknown {
    const value = this.any(node, depth, viaAlias);
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new YamlValueError(
        `${(node as Scalar).source ?? value} is not a number JSON can hold`,
        offsetOf(node),
      );
    }
    return value;
  }

  private any(node: unknown, depth: number, viaAlias: boolean): unknown {
    if (depth > MAX_DEPTH) {
      throw new YamlValueError(`nested more than ${MAX_DEPTH} levels deep`, offsetOf(node));
    }
    if (viaAlias) this.spend(node);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.alias(node, depth);
    if (isScalar(node)) return this.scalar(node);
    if (isMap(node)) return this.map(node, depth, viaAlias);
    if (isSeq(node)) return node.items.map((item) => this.value(item, depth + 1, viaAlias));
    throw new YamlValueError("holds a node that is not YAML data", offsetOf(node));
  }

  private spend(node: unknown): void {
    this.budget ??= Math.max(MIN_ALIAS_BUDGET, countNodes(this.doc));
    this.expanded++;
    if (this.expanded > this.budget) {
      throw new YamlValueError(
        `its aliases expand to more than ${this.budget} values (an alias bomb?)`,
        offsetOf(node),
      );
    }
  }

  private alias(alias: Alias, depth: number): unknown {
    const target = alias.resolve(this.doc);
    const node = alias;
    if (target === undefined) {
      throw new YamlValueError(`alias *${alias.source} has no anchor before it`, offsetOf(node));
    }
    if (this.open.has(target)) {
      throw new YamlValueError(`alias *${alias.source} is inside its own anchor`, offsetOf(node));
    }
    this.open.add(target);
    try {
      return this.value(target, depth + 1, true);
    } finally {
      this.open.delete(target);
    }
  }

  private scalar(node: Scalar): unknown {
    // A node without source text was made by a patch: its value is what it is.
    if (typeof node.source !== "string") return node.value ?? null;
    if (node.tag) {
      try {
        return resolveTagged(node.tag, node.source);
      } catch (error) {
        if (error instanceof ScalarTagError)
          throw new YamlValueError(error.message, offsetOf(node));
        throw error;
      }
    }
    return node.type === "PLAIN" ? resolvePlain(node.source) : node.source;
  }

  private map(node: YAMLMap, depth: number, viaAlias: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (isMergeKey(pair.key)) {
        this.merge(out, pair.value, depth, viaAlias);
        continue;
      }
      const key = this.key(pair.key, depth, viaAlias);
      setKey(out, key, this.value(pair.value, depth + 1, viaAlias));
    }
    return out;
  }

  /** `<<: *a` or `<<: [*a, *b]`: earlier maps of a list win, later keys of the map win. */
  private merge(out: Record<string, unknown>, value: unknown, depth: number, viaAlias: boolean) {
    const sources = isSeq(value) ? [...value.items].reverse() : [value];
    for (const source of sources) {
      const target = isAlias(source) ? source.resolve(this.doc) : source;
      if (!isMap(target)) {
        throw new YamlValueError(
          "a merge key (<<) needs a mapping or a list of mappings",
          offsetOf(source),
        );
      }
      const merged = this.value(source, depth + 1, viaAlias) as Record<string, unknown>;
      for (const [key, entry] of Object.entries(merged)) setKey(out, key, entry);
    }
  }

  /** Keys become strings as sigs.k8s.io/yaml makes them. */
  private key(node: unknown, depth: number, viaAlias: boolean): string {
    const value = this.any(node, depth + 1, viaAlias);
    if (typeof value === "string") return value;
    if (typeof value === "boolean") return String(value);
    if (typeof value === "number") {
      const source = isScalar(node) && typeof node.source === "string" ? node.source : undefined;
      const integer = source === undefined ? Number.isInteger(value) : isIntegerText(source);
      return integer ? String(value) : float32Key(value);
    }
    const what = value === null ? "null" : Array.isArray(value) ? "a list" : "a mapping";
    throw new YamlValueError(`a mapping key is ${what}, which JSON cannot hold`, offsetOf(node));
  }
}

function isMergeKey(key: unknown): boolean {
  return (
    isScalar(key) &&
    key.source === "<<" &&
    ((key.type === "PLAIN" && !key.tag) || key.tag === MERGE_TAG)
  );
}

/** Whether go-yaml parsed this text as an integer rather than a float. */
function isIntegerText(source: string): boolean {
  const plain = source.replaceAll("_", "");
  return /^[-+]?(0[xXoObB][0-9a-fA-F]+|[0-9]+)$/.test(plain) && !/^[-+]?0[0-7]*[89]/.test(plain);
}
