// Kubernetes resource quantities (`100m`, `128Mi`, `1e3`) and the container
// fields that hold them, shared by the policies that check or default them.
import type { Container } from "../kube.js";

const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// Anchored at both ends with no nested or overlapping quantifiers, so it runs
// in linear time on any string, including a huge one in a request.
const QUANTITY =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** A Kubernetes resource quantity as a plain number, or undefined when it is not one. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const [, number = "", exponent, suffix = ""] = match;
  const scale = exponent !== undefined ? 10 ** Number(exponent) : (SUFFIXES[suffix] ?? 1);
  return Number(number) * scale;
}

/**
 * What the container declares under `resources.<kind>.<resource>`, or
 * undefined when it leaves it unset: absent, or a blank string. The value is
 * returned as written; it may still not parse as a quantity.
 */
export function declaredResource(
  container: Container,
  kind: "requests" | "limits",
  resource: string,
): string | number | undefined {
  const value = container.resources?.[kind]?.[resource];
  return typeof value === "number" || (typeof value === "string" && value.trim() !== "")
    ? value
    : undefined;
}
