import { FAILSAFE_SCHEMA, type LoadOptions, load, Type } from "js-yaml";
import { MAX_DEPTH } from "./convert.js";
import { resolvePlain } from "./scalars.js";

/*
 * A fast reader for the plain documents that make up nearly every manifest.
 * The `yaml` library keeps a full syntax tree (which `fix` needs to write
 * documents back) and reads about 3 MB/s; js-yaml builds values directly,
 * several times faster (docs/benchmarks.md). It is used only where both read
 * a document the same way: plain scalars are resolved by the same
 * `resolvePlain` kubectl's rules are written in, and any document with
 * something the two could treat differently goes to the full reader in
 * convert.ts: anchors and aliases, tags, merge keys, directives, complex or
 * non-string keys, tabs, numbers JSON cannot hold, deep nesting, and
 * anything js-yaml refuses. test/manifests/kubectl-yaml.test.ts checks both
 * readers against kubectl's own library.
 */

/** Plain scalars kubectl reads as something other than a string. */
const KUBE_PLAIN = new Type("tag:yaml.org,2002:kube-plain", {
  kind: "scalar",
  resolve: (text: string) => typeof resolvePlain(text) !== "string",
  construct: (text: string) => resolvePlain(text),
});

const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [KUBE_PLAIN] });

/*
 * Text the fast reader leaves to the full one: what could start an anchor,
 * an alias or a tag (`&`, `*` or `!` followed by a name, where a node can
 * start), `<<` merge keys, `%` directives, `?` complex keys, flow
 * collections used as keys, tabs, and `{{` (an unrendered template, which
 * the full reader names as such). A cron schedule's `* * *` or a URL's
 * `&b=2` stay fast; a cron step after a space goes the safe way, which costs only time.
 */
// The indicator first, so the engine can skip to it; the lookbehind then
// checks that a node can start there.
const NODE_PROPERTY = /[&*!](?<=(?:^|[\s[{,:-])[&*!])[^\s,[\]{}"']/m;
const COMPLEX_KEY = /^[ ]*\?(?:[ ]|$)/m;
const FLOW_KEY = /[\]}][ ]*:(?:[ ]|$)/m;

/**
 * Whether the text holds any of the above. Each construct has its own test,
 * run only when its leading character occurs: this runs on every document,
 * and one pattern with a leading alternation was tried at every offset.
 */
function notPlain(text: string): boolean {
  if (text.includes("<<") || text.includes("\t") || text.includes("{{")) return true;
  if (
    (text.includes("&") || text.includes("*") || text.includes("!")) &&
    NODE_PROPERTY.test(text)
  ) {
    return true;
  }
  if (text.startsWith("%") || text.includes("\n%")) return true;
  if (text.includes("?") && COMPLEX_KEY.test(text)) return true;
  return (text.includes("]") || text.includes("}")) && FLOW_KEY.test(text);
}

/** Whether a value holds only what JSON and both readers agree on. */
function agrees(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof value === "number") return Number.isFinite(value);
  if (value === null || typeof value !== "object") return true;
  if (Array.isArray(value)) return value.every((item) => agrees(item, depth + 1));
  for (const key of Object.keys(value)) {
    // A key kubectl would read as a number, boolean or null is formatted by its
    // own rules (convert.ts); js-yaml has already made it a string.
    if (typeof resolvePlain(key) !== "string" || key === "[object Object]") return false;
    if (!agrees((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** Told as js-yaml opens and closes each node, with its reading state (positions, the node's value). */
export type ReadListener = NonNullable<LoadOptions["listener"]>;

/**
 * The value of one document (the text between two `---` lines) as kubectl
 * reads it, or undefined when the full reader must decide. `listener`
 * follows the reading, for a caller that needs where nodes are.
 */
export function fastValue(text: string, listener?: ReadListener): unknown {
  if (notPlain(text)) return undefined;
  let value: unknown;
  try {
    value = load(
      text,
      listener ? { schema: SCHEMA, json: true, listener } : { schema: SCHEMA, json: true },
    );
  } catch {
    return undefined;
  }
  return agrees(value, 0) ? (value ?? null) : undefined;
}
