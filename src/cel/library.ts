// The Kubernetes CEL libraries that @marcbachmann/cel-js does not ship,
// registered as functions with the environment: quantity, regex, lists,
// sets, the string functions Kubernetes adds, url, and linear-time `matches`.
import type { Environment } from "@marcbachmann/cel-js";
import { Optional } from "@marcbachmann/cel-js";
import {
  compareQuantities,
  integerQuantity,
  isIntegerQuantity,
  parseCelQuantity,
  Quantity,
  quantityAsFloat,
  quantityAsInteger,
  sumQuantities,
} from "./quantity.js";
import { RegexCache } from "./regex.js";
import { CelUrl, parseCelUrl } from "./url.js";

/** The name `matches` is renamed to at compile time; see program.ts. */
export const LINEAR_MATCHES = "matches_re2";

type Comparable = bigint | number | string | boolean;

function compare(a: Comparable, b: Comparable): number {
  if (typeof a === "bigint" || typeof a === "number") {
    if (typeof b !== "bigint" && typeof b !== "number")
      throw new Error("no such overload: mixed list");
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a !== typeof b) throw new Error("no such overload: mixed list");
  return a < b ? -1 : a > b ? 1 : 0;
}

function extreme(list: Comparable[], sign: 1 | -1, name: string): Comparable {
  if (list.length === 0) throw new Error(`${name}() of an empty list`);
  let best = list[0] as Comparable;
  for (const item of list) if (compare(item, best) * sign > 0) best = item;
  return best;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    (typeof a === "bigint" || typeof a === "number") &&
    (typeof b === "bigint" || typeof b === "number")
  ) {
    // biome-ignore lint/suspicious/noDoubleEquals: CEL compares ints and doubles by value
    return a == b;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (
    a &&
    b &&
    typeof a === "object" &&
    typeof b === "object" &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) =>
        sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}

function quantityOf(text: string): Quantity {
  const q = parseCelQuantity(text);
  if (!q) throw new Error(`quantity(${JSON.stringify(text)}): not a valid quantity`);
  return q;
}

function urlOf(text: string): CelUrl {
  const u = parseCelUrl(text);
  if (!u) throw new Error(`url(${JSON.stringify(text)}): not an absolute URL or absolute path`);
  return u;
}

function registerQuantity(env: Environment): void {
  env.registerType("Quantity", Quantity);
  env.registerFunction("quantity(string): Quantity", quantityOf);
  env.registerFunction(
    "isQuantity(string): bool",
    (s: string) => parseCelQuantity(s) !== undefined,
  );
  env.registerFunction("Quantity.sign(): int", (q: Quantity) => BigInt(Math.sign(Number(q.nanos))));
  env.registerFunction("Quantity.isInteger(): bool", isIntegerQuantity);
  env.registerFunction("Quantity.asInteger(): int", (q: Quantity) => {
    const value = quantityAsInteger(q);
    if (value === undefined) throw new Error(`${q.text} cannot be converted to an int`);
    return value;
  });
  env.registerFunction("Quantity.asApproximateFloat(): double", quantityAsFloat);
  env.registerFunction("Quantity.compareTo(Quantity): int", compareQuantities);
  env.registerFunction(
    "Quantity.isLessThan(Quantity): bool",
    (a: Quantity, b: Quantity) => compareQuantities(a, b) < 0n,
  );
  env.registerFunction(
    "Quantity.isGreaterThan(Quantity): bool",
    (a: Quantity, b: Quantity) => compareQuantities(a, b) > 0n,
  );
  env.registerFunction("Quantity.add(Quantity): Quantity", (a: Quantity, b: Quantity) =>
    sumQuantities(a, b, 1n),
  );
  env.registerFunction("Quantity.add(int): Quantity", (a: Quantity, b: bigint) =>
    sumQuantities(a, integerQuantity(b), 1n),
  );
  env.registerFunction("Quantity.sub(Quantity): Quantity", (a: Quantity, b: Quantity) =>
    sumQuantities(a, b, -1n),
  );
  env.registerFunction("Quantity.sub(int): Quantity", (a: Quantity, b: bigint) =>
    sumQuantities(a, integerQuantity(b), -1n),
  );
  env.registerOperator(
    "Quantity == Quantity",
    (a: Quantity, b: Quantity) => compareQuantities(a, b) === 0n,
  );
}

function registerRegex(env: Environment, regex: RegexCache): void {
  env.registerFunction(`string.${LINEAR_MATCHES}(string): bool`, (s: string, p: string) =>
    regex.matches(s, p),
  );
  env.registerFunction(`${LINEAR_MATCHES}(string, string): bool`, (s: string, p: string) =>
    regex.matches(s, p),
  );
  env.registerFunction("string.find(string): string", (s: string, p: string) => regex.find(s, p));
  env.registerFunction("string.findAll(string): list<string>", (s: string, p: string) =>
    regex.findAll(s, p),
  );
  env.registerFunction(
    "string.findAll(string, int): list<string>",
    (s: string, p: string, n: bigint) => regex.findAll(s, p, n),
  );
}

function registerLists(env: Environment): void {
  env.registerFunction("list.isSorted(): bool", (l: Comparable[]) =>
    l.every((x, i) => i === 0 || compare(l[i - 1] as Comparable, x) <= 0),
  );
  env.registerFunction("list.sum(): dyn", (l: (bigint | number)[]) => {
    if (l.length === 0) return 0n;
    if (l.every((x) => typeof x === "bigint")) return (l as bigint[]).reduce((a, b) => a + b, 0n);
    return l.reduce<number>((a, b) => a + Number(b), 0);
  });
  env.registerFunction("list.min(): dyn", (l: Comparable[]) => extreme(l, -1, "min"));
  env.registerFunction("list.max(): dyn", (l: Comparable[]) => extreme(l, 1, "max"));
  env.registerFunction("list.indexOf(dyn): int", (l: unknown[], x: unknown) =>
    BigInt(l.findIndex((y) => sameValue(x, y))),
  );
  env.registerFunction("list.lastIndexOf(dyn): int", (l: unknown[], x: unknown) =>
    BigInt(l.findLastIndex((y) => sameValue(x, y))),
  );
  env.registerFunction("list.distinct(): list", (l: unknown[]) =>
    l.filter((x, i) => l.findIndex((y) => sameValue(x, y)) === i),
  );
  env.registerFunction("list.flatten(): list", (l: unknown[]) =>
    l.flatMap((x) => (Array.isArray(x) ? x : [x])),
  );
  env.registerFunction("list.reverse(): list", (l: unknown[]) => [...l].reverse());
  env.registerFunction("list.slice(int, int): list", (l: unknown[], from: bigint, to: bigint) => {
    if (from < 0n || to > BigInt(l.length) || from > to)
      throw new Error("slice(): index out of range");
    return l.slice(Number(from), Number(to));
  });
  env.registerFunction("list.sort(): list", (l: Comparable[]) => [...l].sort(compare));
  env.registerType("SetsNamespace", SetsNamespace);
  env.registerConstant("sets", "SetsNamespace", new SetsNamespace());
  env.registerFunction(
    "SetsNamespace.contains(list, list): bool",
    (_: SetsNamespace, a: unknown[], b: unknown[]) =>
      b.every((x) => a.some((y) => sameValue(x, y))),
  );
  env.registerFunction(
    "SetsNamespace.equivalent(list, list): bool",
    (_: SetsNamespace, a: unknown[], b: unknown[]) =>
      b.every((x) => a.some((y) => sameValue(x, y))) &&
      a.every((x) => b.some((y) => sameValue(x, y))),
  );
  env.registerFunction(
    "SetsNamespace.intersects(list, list): bool",
    (_: SetsNamespace, a: unknown[], b: unknown[]) => b.some((x) => a.some((y) => sameValue(x, y))),
  );
}

class SetsNamespace {}

function registerStrings(env: Environment): void {
  env.registerFunction("string.charAt(int): string", (s: string, i: bigint) => {
    if (i < 0n || i > BigInt(s.length)) throw new Error("charAt(): index out of range");
    return s.charAt(Number(i));
  });
  env.registerFunction(
    "string.replace(string, string): string",
    (s: string, a: string, b: string) => s.split(a).join(b),
  );
  env.registerFunction(
    "string.replace(string, string, int): string",
    (s: string, a: string, b: string, n: bigint) => {
      if (n < 0n) return s.split(a).join(b);
      const parts = s.split(a);
      const count = Number(n);
      return parts.length <= count + 1
        ? parts.join(b)
        : parts.slice(0, count + 1).join(b) + a + parts.slice(count + 1).join(a);
    },
  );
  env.registerFunction("string.reverse(): string", (s: string) => [...s].reverse().join(""));
}

function registerUrl(env: Environment): void {
  env.registerType("URL", CelUrl);
  env.registerFunction("url(string): URL", urlOf);
  env.registerFunction("isURL(string): bool", (s: string) => parseCelUrl(s) !== undefined);
  env.registerFunction("URL.getScheme(): string", (u: CelUrl) => u.scheme);
  env.registerFunction("URL.getHost(): string", (u: CelUrl) => u.host);
  env.registerFunction("URL.getHostname(): string", (u: CelUrl) => u.hostname);
  env.registerFunction("URL.getPort(): string", (u: CelUrl) => u.port);
  env.registerFunction("URL.getEscapedPath(): string", (u: CelUrl) => u.escapedPath);
  env.registerFunction("URL.getQuery(): map<string, list<string>>", (u: CelUrl) => u.query);
}

function registerOptionals(env: Environment): void {
  env.registerFunction(
    "OptionalNamespace.ofNonZeroValue(dyn): optional<dyn>",
    (_: unknown, v: unknown) => (isZero(v) ? Optional.none() : Optional.of(v)),
  );
}

function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === "" || v === 0 || v === 0n) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    return Object.keys(v).length === 0;
  return false;
}

/** Adds every Kubernetes library function above to a fresh environment. */
export function registerKubernetesLibraries(env: Environment): void {
  registerQuantity(env);
  registerRegex(env, new RegexCache());
  registerLists(env);
  registerStrings(env);
  registerUrl(env);
  registerOptionals(env);
}
