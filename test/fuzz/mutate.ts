// Structure-aware mutations of AdmissionReviews: values of the wrong type,
// deep nesting, huge strings, unicode, missing fields, duplicate keys and
// prototype-named keys, anywhere in the object or in the review around it;
// then, now and then, bytes that are no longer JSON, or a wrong Content-Type.
import { type Operation, reviewFor } from "./corpus.js";
import { DuplicateKeys, jsonText, RawJson } from "./json-text.js";
import type { Random } from "./random.js";

type Json = Record<string, unknown>;

export interface Mutant {
  /** The endpoint, with a mode in the path or query now and then. */
  path: string;
  /** Undefined: no Content-Type header at all. */
  contentType: string | undefined;
  body: Buffer;
  /** What was done to the seed, for the failure report. */
  steps: string[];
}

const ENDPOINTS = [
  "/validate",
  "/validate/enforce",
  "/validate/warn",
  "/validate/audit",
  "/validate/off",
  "/validate?mode=warn",
  "/mutate",
  "/mutate/enforce",
  "/mutate/warn",
  "/mutate?mode=audit",
  "/validate/bogus",
] as const;

const CONTENT_TYPES = [
  "text/plain",
  "application/json; charset=utf-8",
  "application/JSON",
  "application/x-www-form-urlencoded",
  "application/json-patch+json",
  undefined,
] as const;

const UNICODE = [
  "\u0000",
  "\ud800",
  "\udfff",
  "\u202e-rtl",
  "\ufeff",
  "e\u0301",
  "ǅ",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "🐳:latest",
  "mcr.microsoft.com/ápp:1",
  "ＣＯＮＦＩＧ",
  "\u2028\u2029",
  "%00%ff",
  "..\\..\\etc\\passwd",
  "a".repeat(253),
] as const;

const KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "\u0000"];

const NUMBERS = [
  "1e400",
  "-1e400",
  "-0",
  "123456789012345678901234567890",
  "1e-400",
  "9007199254740993",
];

const OTHER_TYPES: unknown[] = [
  0,
  -1,
  1.5,
  1e308,
  true,
  false,
  null,
  "",
  "x",
  [],
  {},
  [1, "a", null],
  { a: 1 },
];

const DEPTHS = [50, 199, 200, 201, 1_000, 10_000, 100_000];

/** Bytes "many copies" may write: past the 4 MiB default body limit, never hundreds of MiB. */
const COPIES_BUDGET = 6 * 1024 * 1024;

function isObject(value: unknown): value is Json {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof RawJson) &&
    !(value instanceof DuplicateKeys)
  );
}

/** A place in the tree: the container holding a value and the key or index it is under. */
interface Slot {
  parent: Json | unknown[];
  key: string | number;
  path: string;
}

/** Up to `cap` slots under `root`, breadth first (no recursion: mutants nest deep). */
function slotsOf(root: Json, prefix: string, cap = 2_000): Slot[] {
  const slots: Slot[] = [];
  const queue: { value: Json | unknown[]; path: string }[] = [{ value: root, path: prefix }];
  while (queue.length > 0 && slots.length < cap) {
    const { value, path } = queue.shift() as { value: Json | unknown[]; path: string };
    const keys: (string | number)[] = Array.isArray(value)
      ? value.map((_, i) => i)
      : Object.keys(value);
    for (const key of keys) {
      const child = (value as Record<string | number, unknown>)[key];
      const childPath = `${path}.${key}`;
      slots.push({ parent: value, key, path: childPath });
      if (Array.isArray(child) || isObject(child)) queue.push({ value: child, path: childPath });
    }
  }
  return slots;
}

function hugeString(random: Random): string {
  const length = random.chance(0.9) ? random.int(1_000, 70_000) : random.pick([1 << 20, 3 << 20]);
  return random.pick(["a", "é", "🐳", "-----BEGIN ", "a://b:"]).repeat(length).slice(0, length);
}

function deepNest(random: Random): { depth: number; value: RawJson } {
  const depth = random.pick(DEPTHS);
  const [open, close] = random.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
  return { depth, value: new RawJson(`${open.repeat(depth)}1${close.repeat(depth)}`) };
}

type Operator = (slot: Slot, random: Random) => string;

function set(slot: Slot, value: unknown): void {
  (slot.parent as Record<string | number, unknown>)[slot.key] = value;
}

function current(slot: Slot): unknown {
  return (slot.parent as Record<string | number, unknown>)[slot.key];
}

/** Each operator changes the tree at one slot and says what it did. */
const OPERATORS: Record<string, Operator> = {
  "wrong type": (slot, random) => {
    set(slot, structuredClone(random.pick(OTHER_TYPES)));
    return "wrong type";
  },
  "huge string": (slot, random) => {
    const value = hugeString(random);
    set(slot, value);
    return `string of ${value.length}`;
  },
  unicode: (slot, random) => {
    const was = current(slot);
    const text = random.pick(UNICODE);
    set(slot, typeof was === "string" && random.chance(0.5) ? `${was}${text}` : text);
    return "unicode";
  },
  "deep nesting": (slot, random) => {
    const { depth, value } = deepNest(random);
    set(slot, value);
    return `nested ${depth} levels deep`;
  },
  "missing field": (slot) => {
    if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
    else delete slot.parent[slot.key as string];
    return "removed";
  },
  "many copies": (slot, random) => {
    const text = jsonText(current(slot));
    // Up to a little past the body limit, so that some copies end in a 413.
    // Written as text, so that no later change can grow every copy at once.
    const n = Math.min(
      random.pick([100, 1_000, 10_000]),
      Math.floor(COPIES_BUDGET / (text.length + 1)),
    );
    set(slot, new RawJson(`[${Array.from({ length: n }, () => text).join(",")}]`));
    return `array of ${n} copies`;
  },
  "odd key": (slot, random) => {
    const was = current(slot);
    const key = random.pick(KEYS);
    const value = random.chance(0.5) ? { polluted: true } : "x";
    // defineProperty: assigning to __proto__ would set the prototype, not add a key.
    if (isObject(was))
      Object.defineProperty(was, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else set(slot, { [key]: was });
    return `key ${JSON.stringify(key)}`;
  },
  "duplicate key": (slot, random) => {
    const was = current(slot);
    if (!isObject(was) || Object.keys(was).length === 0) return "duplicate key (none)";
    const entries = Object.entries(was);
    const [key] = random.pick(entries);
    const other = structuredClone(random.pick(OTHER_TYPES));
    // Either order: the last one wins, so the original or the odd value survives.
    entries.push(random.chance(0.5) ? [key, other] : [key, was[key]]);
    if (entries.length > 1 && random.chance(0.5)) entries.unshift([key, other]);
    set(slot, new DuplicateKeys(entries));
    return `key ${JSON.stringify(key)} twice`;
  },
  "odd number": (slot, random) => {
    const text = random.pick(NUMBERS);
    set(slot, new RawJson(text));
    return `number ${text}`;
  },
  empty: (slot, random) => {
    set(slot, structuredClone(random.pick([{}, [], "", 0])));
    return "emptied";
  },
};

const OPERATOR_NAMES = Object.keys(OPERATORS);

/** Breaks the JSON text itself. */
function breakBytes(text: string, random: Random): { body: Buffer; step: string } {
  const bytes = Buffer.from(text, "utf8");
  const at = random.int(0, bytes.length);
  switch (random.int(0, 7)) {
    case 0:
      return { body: bytes.subarray(0, at), step: `truncated at ${at}` };
    case 1: {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[Math.min(at, copy.length - 1)] = random.int(0, 255);
      return { body: copy, step: `byte ${at} replaced` };
    }
    case 2:
      return {
        body: Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from([0xff, 0xfe, 0xc3]),
          bytes.subarray(at),
        ]),
        step: `invalid UTF-8 at ${at}`,
      };
    case 3:
      return { body: Buffer.concat([Buffer.from("\ufeff"), bytes]), step: "byte order mark" };
    case 4:
      return {
        body: Buffer.concat([bytes, Buffer.from(random.pick(["}", "]", ",", "x", " {}"]))]),
        step: "trailing text",
      };
    case 5:
      return {
        body: Buffer.from(random.pick(["", "null", "[]", '"review"', "1", "{}", "{", "true"])),
        step: "not a review",
      };
    case 6:
      return {
        body: Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from(random.pick([",", ":", '"', "\\", "\u0000"])),
          bytes.subarray(at),
        ]),
        step: `punctuation inserted at ${at}`,
      };
    default:
      return { body: Buffer.from(text.replace(/"/g, "'")), step: "single quotes" };
  }
}

const OPERATIONS: readonly Operation[] = [
  "CREATE",
  "CREATE",
  "CREATE",
  "UPDATE",
  "UPDATE",
  "DELETE",
  "CONNECT",
];

/**
 * The `index`th mutant of a run: a seed object from the corpus in an
 * AdmissionReview with uid `fuzz-<index>`, changed at one to four places (most
 * inside the object, some in the review around it), its bytes broken one
 * time in ten and its Content-Type wrong one time in thirty.
 */
export function mutant(corpus: readonly Json[], index: number, random: Random): Mutant {
  const seed = structuredClone(random.pick(corpus));
  const operation = random.pick(OPERATIONS);
  const old =
    operation === "UPDATE" ? structuredClone(random.pick([seed, random.pick(corpus)])) : null;
  const review = reviewFor(seed, `fuzz-${index}`, operation, old);
  const steps = [`${operation} ${String(seed.kind)}`];
  const changes = random.chance(0.1) ? 0 : random.int(1, 4);
  for (let i = 0; i < changes; i++) {
    // An earlier change may have removed the request or made it a string.
    const request = isObject(review.request) ? review.request : {};
    const objects = (["object", "oldObject"] as const).filter((field) => isObject(request[field]));
    const field = objects.length > 0 && random.chance(0.75) ? random.pick(objects) : undefined;
    const root = field ? request[field] : review;
    if (!isObject(root)) continue;
    const prefix = field ? `request.${field}` : "";
    const slots = slotsOf(root, prefix);
    if (slots.length === 0) continue;
    const slot = random.pick(slots);
    const name = random.pick(OPERATOR_NAMES);
    steps.push(`${slot.path.replace(/^\./, "")}: ${(OPERATORS[name] as Operator)(slot, random)}`);
  }
  let body: Buffer = Buffer.from(jsonText(review), "utf8");
  if (random.chance(0.1)) {
    const broken = breakBytes(body.toString("utf8"), random);
    body = broken.body;
    steps.push(broken.step);
  }
  const contentType = random.chance(1 / 30) ? random.pick(CONTENT_TYPES) : "application/json";
  if (contentType !== "application/json") steps.push(`Content-Type ${contentType ?? "(none)"}`);
  return { path: random.pick(ENDPOINTS), contentType, body, steps };
}
