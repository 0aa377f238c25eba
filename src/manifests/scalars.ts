import type { DocumentOptions, ParseOptions, Scalar, ScalarTag, SchemaOptions } from "yaml";

/*
 * Plain scalars read the way kubectl reads them. kubectl converts YAML to
 * JSON with sigs.k8s.io/yaml, which follows YAML 1.1 as go-yaml v2 resolves
 * it: `yes`, `on` and `Y` are booleans, `0777` and `0o17` are octal, `1_000`
 * is a thousand, `08` is the float 8. Timestamps and base-60 numbers stay
 * strings. The rules below are written from that behaviour and checked
 * against the real library by test/manifests/kubectl-yaml.test.ts.
 */

const TRUE = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
const FALSE = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];
const NULL = ["", "~", "null", "Null", "NULL"];

const WORDS = new Map<string, unknown>([
  ...TRUE.map((w): [string, unknown] => [w, true]),
  ...FALSE.map((w): [string, unknown] => [w, false]),
  ...NULL.map((w): [string, unknown] => [w, null]),
  ...[".nan", ".NaN", ".NAN"].map((w): [string, unknown] => [w, Number.NaN]),
  ...[".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"].map((w): [string, unknown] => [
    w,
    Number.POSITIVE_INFINITY,
  ]),
  ...["-.inf", "-.Inf", "-.INF"].map((w): [string, unknown] => [w, Number.NEGATIVE_INFINITY]),
]);

/** Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` syntax, underscores already removed. */
const GO_INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
/** go-yaml's float syntax, underscores already removed. */
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** A float that starts with a dot, which go-yaml hands to ParseFloat as it is. */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function goInt(plain: string): number | undefined {
  const match = GO_INT.exec(plain);
  if (!match) return undefined;
  const [, sign, digits = ""] = match;
  const body =
    digits.length > 1 && digits[0] === "0" && /[0-7]/.test(digits[1] ?? "")
      ? `0o${digits.slice(1)}`
      : digits.toLowerCase();
  let value = BigInt(body);
  if (sign === "-") value = -value;
  // ParseInt takes a sign and int64; ParseUint takes no sign and uint64.
  const fits = sign === "" ? value <= UINT64_MAX : value >= INT64_MIN && value <= INT64_MAX;
  return fits ? Number(value) : undefined;
}

function finite(text: string): number | undefined {
  const value = Number(text);
  // Go's ParseFloat refuses what overflows; go-yaml then keeps the string.
  return Number.isFinite(value) ? value : undefined;
}

/** The longest of WORDS: longer scalars skip the lookup. */
const LONGEST_WORD = Math.max(...[...WORDS.keys()].map((w) => w.length));

/** `-`, `+` or a digit: the characters a number can start with, other than `.`. */
function startsNumber(code: number): boolean {
  return code === 45 || code === 43 || (code >= 48 && code <= 57);
}

/** The value kubectl gives an untagged plain scalar: string, number, boolean or null. */
export function resolvePlain(source: string): unknown {
  // Called for every plain scalar and key of every document, so the common
  // case (a word longer than any special one) returns after two checks.
  if (source.length <= LONGEST_WORD && WORDS.has(source)) return WORDS.get(source);
  const first = source.charCodeAt(0);
  if (first === 46) return (DOT_FLOAT.test(source) ? finite(source) : undefined) ?? source;
  if (!startsNumber(first)) return source;
  const plain = source.replaceAll("_", "");
  const int = goInt(plain);
  if (int !== undefined) return int;
  if (GO_FLOAT.test(plain)) return finite(plain) ?? source;
  return source;
}

const TAG = "tag:yaml.org,2002:";
export const STR_TAG = `${TAG}str`;
export const BINARY_TAG = `${TAG}binary`;
export const MERGE_TAG = `${TAG}merge`;

/** The kind of value each standard tag asks for, as go-yaml checks it. */
const TYPED_TAGS: Record<string, (value: unknown) => boolean> = {
  [`${TAG}null`]: (v) => v === null,
  [`${TAG}bool`]: (v) => typeof v === "boolean",
  [`${TAG}int`]: (v) => typeof v === "number" && Number.isInteger(v),
  [`${TAG}float`]: (v) => typeof v === "number",
  [`${TAG}timestamp`]: (v) => typeof v === "string" && /^\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?$/.test(v),
};

/** A tagged scalar whose text does not fit its tag (`!!int abc`). */
export class ScalarTagError extends Error {
  override name = "ScalarTagError";
}

/**
 * The value of a scalar with an explicit tag: `!!str` keeps the text,
 * `!!int`/`!!bool`/`!!float`/`!!null` must resolve to their kind, `!!binary`
 * is decoded, and tags kubectl does not know leave the text as a string.
 */
export function resolveTagged(tag: string, source: string): unknown {
  if (tag === STR_TAG) return source;
  if (tag === BINARY_TAG) return Buffer.from(source.replace(/\s+/g, ""), "base64").toString("utf8");
  const fits = TYPED_TAGS[tag];
  if (!fits) return source;
  if (tag === `${TAG}timestamp`) {
    if (fits(source)) return source;
    throw new ScalarTagError(`cannot read "${source}" as ${short(tag)}`);
  }
  const value = resolvePlain(source);
  if (!fits(value)) throw new ScalarTagError(`cannot read "${source}" as ${short(tag)}`);
  return value;
}

function short(tag: string): string {
  return tag.startsWith(TAG) ? `!!${tag.slice(TAG.length)}` : tag;
}

/*
 * Tags for the `yaml` library, so that `fix` writes YAML kubectl reads back
 * the same way: a new string that kubectl would take for a boolean or a
 * number (`"on"`, `"0o17"`, `"1_000"`) is quoted, and a scalar that was
 * already in the file is written back exactly as it was.
 */

const keepSource =
  (fallback: (value: unknown) => string) =>
  (item: Scalar): string =>
    typeof item.source === "string" && Object.is(resolvePlain(item.source), item.value)
      ? item.source
      : fallback(item.value);

const BOOL_TEST = new RegExp(`^(?:${[...TRUE, ...FALSE].join("|")})$`);
const NULL_TEST = /^(?:~|null|Null|NULL)?$/;
// Exactly the texts resolvePlain reads as numbers (overflow aside): go-yaml
// drops every underscore after the first character before parsing.
const U = "_*";
const DIGITS = (set: string) => `(?:[${set}]${U})+`;
const NUMBER_TEST = new RegExp(
  `^(?:(?:[-+]${U})?(?:` +
    [
      `0${U}[xX]${U}${DIGITS("0-9a-fA-F")}`,
      `0${U}[oO]${U}${DIGITS("0-7")}`,
      `0${U}[bB]${U}${DIGITS("01")}`,
      `(?:\\.${U}${DIGITS("0-9")}|${DIGITS("0-9")}(?:\\.${U}(?:[0-9]${U})*)?)(?:[eE]${U}(?:[-+]${U})?${DIGITS("0-9")})?`,
      "\\.(?:inf|Inf|INF)",
    ].join("|") +
    ")|\\.(?:nan|NaN|NAN))$",
);

function numberText(value: unknown): string {
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return ".nan";
  if (!Number.isFinite(value)) return value > 0 ? ".inf" : "-.inf";
  return String(value);
}

export const KUBE_TAGS: ScalarTag[] = [
  {
    tag: `${TAG}null`,
    default: true,
    identify: (value) => value === null || value === undefined,
    test: NULL_TEST,
    resolve: () => null,
    stringify: (item) =>
      typeof item.source === "string" && NULL_TEST.test(item.source) ? item.source : "null",
  },
  {
    tag: `${TAG}bool`,
    default: true,
    identify: (value) => typeof value === "boolean",
    test: BOOL_TEST,
    resolve: (text) => resolvePlain(text),
    stringify: keepSource((value) => String(value)),
  },
  {
    tag: `${TAG}float`,
    default: true,
    identify: (value) => typeof value === "number",
    test: NUMBER_TEST,
    // The text may not be a number after all (`1.2.3`); the reader in
    // convert.ts decides from the source text, this only keeps the node.
    resolve: (text) => resolvePlain(text),
    stringify: keepSource(numberText),
  },
];

/**
 * How every manifest is parsed: YAML 1.1 scalars as kubectl reads them, no
 * merge or duplicate-key handling by the library (kubeValue does both the
 * way kubectl does).
 */
export const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  schema: "failsafe",
  customTags: (tags) => [...tags, ...KUBE_TAGS],
  uniqueKeys: false,
  merge: false,
  strict: false,
};
