// Kubernetes quantities for CEL (`quantity("500m").isLessThan(quantity("1"))`),
// exact: values are held as whole nano-units in a BigInt, the finest scale a
// Kubernetes quantity keeps, so binary suffixes and large exponents compare
// without floating-point error.

const DECIMAL: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

// Linear: anchored, no nested or overlapping quantifiers.
const FORM =
  /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d{1,4})|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;
const NANO = 9;
const ONE = 10n ** BigInt(NANO);

/** A Kubernetes resource quantity in exact nano-units. */
export class Quantity {
  constructor(
    readonly nanos: bigint,
    readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

/** Rounds up, as the API server does for precision below a nano-unit. */
function scaleDigits(digits: string, exponent: number): bigint {
  const shift = exponent + NANO;
  if (shift >= 0) return BigInt(digits) * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const value = BigInt(digits);
  const whole = value / divisor;
  return value % divisor === 0n ? whole : whole + 1n;
}

/** The quantity a string denotes, or undefined when it is not one (longer than 64 characters is never one). */
export function parseCelQuantity(text: string): Quantity | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const match = FORM.exec(text);
  if (!match) return undefined;
  const [, sign = "", number = "", exponent, suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  const digits = `${whole}${fraction}` || "0";
  let nanos: bigint;
  if (suffix in BINARY) {
    nanos = scaleDigits(digits, -fraction.length) * 2n ** BigInt(BINARY[suffix] ?? 0);
  } else {
    const power = exponent !== undefined ? Number(exponent) : (DECIMAL[suffix] ?? 0);
    nanos = scaleDigits(digits, power - fraction.length);
  }
  return new Quantity(sign === "-" ? -nanos : nanos, text);
}

export function compareQuantities(a: Quantity, b: Quantity): bigint {
  return a.nanos < b.nanos ? -1n : a.nanos > b.nanos ? 1n : 0n;
}

export function isIntegerQuantity(q: Quantity): boolean {
  return q.nanos % ONE === 0n;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** The whole value, or undefined when it has a fraction or does not fit an int. */
export function quantityAsInteger(q: Quantity): bigint | undefined {
  if (!isIntegerQuantity(q)) return undefined;
  const value = q.nanos / ONE;
  return value > INT64_MAX || value < INT64_MIN ? undefined : value;
}

export function quantityAsFloat(q: Quantity): number {
  return Number(q.nanos) / Number(ONE);
}

export function sumQuantities(a: Quantity, b: Quantity, sign: 1n | -1n): Quantity {
  const nanos = a.nanos + sign * b.nanos;
  return new Quantity(nanos, formatNanos(nanos));
}

export function integerQuantity(value: bigint): Quantity {
  return new Quantity(value * ONE, value.toString());
}

function formatNanos(nanos: bigint): string {
  if (nanos % ONE === 0n) return (nanos / ONE).toString();
  if (nanos % 1_000_000n === 0n) return `${nanos / 1_000_000n}m`;
  if (nanos % 1000n === 0n) return `${nanos / 1000n}u`;
  return `${nanos}n`;
}
