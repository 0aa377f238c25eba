// Deciding what the certificate Secret should hold, and whether what it holds
// can be served. No I/O: the caller reads and writes the Secret.
import { generateCertificates } from "./generate.js";
import {
  type Certificate,
  coversHosts,
  isIssuedBy,
  issueServingCertificate,
  isValidAt,
  type KeyPair,
  parseBundle,
  parseKeyPair,
  remainingFraction,
} from "./pki.js";
import type { TlsMaterial } from "./source.js";

export const SECRET_KEYS = {
  caCert: "ca.crt",
  caKey: "ca.key",
  cert: "tls.crt",
  key: "tls.key",
  bundle: "ca-bundle.crt",
  nextCaCert: "next-ca.crt",
  nextCaKey: "next-ca.key",
} as const;

const OWN_KEYS = new Set<string>(Object.values(SECRET_KEYS));
export const DAY_MS = 86_400_000;

type SecretData = Readonly<Record<string, string>>;

export interface PlanContext {
  hosts: readonly string[];
  now: Date;
  servingValidityDays: number;
  /** Renew the serving certificate once less than this fraction of its life is left. */
  renewWhenRemaining: number;
  /** Start a CA rotation once the CA has less than this left (ms). */
  caRotationLeadMs: number;
  /** How long a next CA sits in the bundle before it signs (ms). */
  caOverlapMs: number;
  /** Whether every webhook configuration already trusts this CA (by SHA-256 fingerprint). */
  isTrusted(fingerprint: string): boolean;
}

export interface CertificatePlan {
  /** The Secret data to store: the input's unknown keys kept, Tollgate's own rewritten. */
  data: Record<string, string>;
  /** Why the data changed; empty when the stored data is already right. */
  changes: string[];
}

/** The CAs a plan works with: the one that signs, the one coming, the one going. */
interface CaState {
  ca: KeyPair;
  next: KeyPair | undefined;
  previous: KeyPair | undefined;
}

function usableCa(
  cert: string | undefined,
  key: string | undefined,
  now: Date,
): KeyPair | undefined {
  const pair = parseKeyPair(cert, key);
  if (!pair?.certificate.x509.ca || !isValidAt(pair.certificate, now)) return undefined;
  return pair;
}

async function freshCa(ctx: PlanContext): Promise<{ ca: KeyPair; serving: KeyPair }> {
  const bundle = await generateCertificates({
    hosts: [...ctx.hosts],
    validDays: ctx.servingValidityDays,
    now: ctx.now,
  });
  const ca = parseKeyPair(bundle.caCert, bundle.caKey);
  const serving = parseKeyPair(bundle.cert, bundle.key);
  if (!ca || !serving) throw new Error("generated certificates do not match their keys");
  return { ca, serving };
}

function servingProblem(
  serving: KeyPair | undefined,
  ca: KeyPair,
  ctx: PlanContext,
): string | undefined {
  if (!serving) return "serving certificate missing or unreadable";
  const cert = serving.certificate;
  if (!isIssuedBy(cert, ca.certificate)) return "serving certificate not signed by the active CA";
  if (!coversHosts(cert, ctx.hosts)) return "serving certificate does not cover the service names";
  if (!isValidAt(cert, ctx.now)) return "serving certificate expired or not yet valid";
  if (remainingFraction(cert, ctx.now) < ctx.renewWhenRemaining) {
    return "serving certificate due for renewal";
  }
  return undefined;
}

function serialize(
  input: SecretData | undefined,
  state: { ca: KeyPair; serving: KeyPair; next: KeyPair | undefined; bundle: Certificate[] },
): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (!OWN_KEYS.has(key)) data[key] = value;
  }
  data[SECRET_KEYS.caCert] = state.ca.certificate.pem;
  data[SECRET_KEYS.caKey] = state.ca.key;
  data[SECRET_KEYS.cert] = state.serving.certificate.pem;
  data[SECRET_KEYS.key] = state.serving.key;
  data[SECRET_KEYS.bundle] = state.bundle.map((c) => c.pem).join("");
  if (state.next) {
    data[SECRET_KEYS.nextCaCert] = state.next.certificate.pem;
    data[SECRET_KEYS.nextCaKey] = state.next.key;
  }
  return data;
}

function sameData(a: SecretData | undefined, b: Record<string, string>) {
  const left = a ?? {};
  const keys = new Set([...Object.keys(left), ...Object.keys(b)]);
  for (const key of keys) if (left[key] !== b[key]) return false;
  return true;
}

/**
 * The stored active and next CAs that are still usable. When only the next
 * one is, it becomes active: it is the best there is.
 */
function storedCas(
  stored: SecretData | undefined,
  now: Date,
  changes: string[],
): { ca: KeyPair | undefined; next: KeyPair | undefined } {
  const ca = usableCa(stored?.[SECRET_KEYS.caCert], stored?.[SECRET_KEYS.caKey], now);
  const next = usableCa(stored?.[SECRET_KEYS.nextCaCert], stored?.[SECRET_KEYS.nextCaKey], now);
  if (!next && (stored?.[SECRET_KEYS.nextCaCert] || stored?.[SECRET_KEYS.nextCaKey])) {
    changes.push("dropped an unusable next CA");
  }
  if (!ca && next) {
    changes.push("active CA unusable; promoted the next CA early");
    return { ca: next, next: undefined };
  }
  return { ca, next };
}

/** A new CA and serving pair, replacing whatever the Secret held. */
async function freshPlan(
  stored: SecretData | undefined,
  ctx: PlanContext,
  changes: string[],
): Promise<CertificatePlan> {
  const fresh = await freshCa(ctx);
  changes.push(stored ? "replaced an unusable CA and serving certificate" : "created a CA");
  const data = serialize(stored, { ...fresh, next: undefined, bundle: [fresh.ca.certificate] });
  return { data, changes };
}

/**
 * The two-step CA rotation: a next CA that has overlapped long enough and
 * is trusted everywhere starts signing; an active CA near its expiry gets a
 * next one.
 */
async function rotateCas(
  ca: KeyPair,
  next: KeyPair | undefined,
  ctx: PlanContext,
  changes: string[],
): Promise<CaState> {
  const { now } = ctx;
  let state: CaState = { ca, next, previous: undefined };
  if (
    next &&
    now.getTime() - next.certificate.notBefore.getTime() >= ctx.caOverlapMs &&
    ctx.isTrusted(next.certificate.fingerprint)
  ) {
    state = { ca: next, next: undefined, previous: ca };
    changes.push("promoted the next CA");
  }
  if (
    !state.next &&
    state.ca.certificate.notAfter.getTime() - now.getTime() < ctx.caRotationLeadMs
  ) {
    state.next = (await freshCa(ctx)).ca;
    changes.push("introduced a next CA ahead of the active CA's expiry");
  }
  return state;
}

/** The stored serving pair when it is fine, else a new one from the active CA. */
async function servingPair(
  stored: SecretData | undefined,
  ca: KeyPair,
  ctx: PlanContext,
  changes: string[],
): Promise<KeyPair> {
  const serving = parseKeyPair(stored?.[SECRET_KEYS.cert], stored?.[SECRET_KEYS.key]);
  const problem = servingProblem(serving, ca, ctx);
  if (!problem) {
    if (!serving) throw new Error("unreachable: serving certificate missing after issuing");
    return serving;
  }
  const wanted = ctx.now.getTime() + ctx.servingValidityDays * DAY_MS;
  const notAfter = new Date(Math.min(wanted, ca.certificate.notAfter.getTime()));
  const issued = await issueServingCertificate({ ca, hosts: ctx.hosts, notAfter, now: ctx.now });
  changes.push(`issued a serving certificate (${problem})`);
  return issued;
}

/** Trust: active, next, previous, and whatever valid CA the bundle already held. */
function trustBundle(
  { ca, next, previous }: CaState,
  stored: SecretData | undefined,
  now: Date,
): Certificate[] {
  const bundle: Certificate[] = [];
  const seen = new Set<string>();
  const candidates = [
    ca.certificate,
    next?.certificate,
    previous?.certificate,
    ...parseBundle(stored?.[SECRET_KEYS.bundle]),
  ];
  for (const cert of candidates) {
    if (!cert || seen.has(cert.fingerprint) || !cert.x509.ca || !isValidAt(cert, now)) continue;
    seen.add(cert.fingerprint);
    bundle.push(cert);
  }
  return bundle;
}

/**
 * What the Secret should hold now, given what it holds (undefined: absent).
 * Garbage is replaced, due certificates are renewed, a CA near its expiry is
 * rotated in two steps. Pure apart from key generation.
 */
export async function planCertificates(
  stored: SecretData | undefined,
  ctx: PlanContext,
): Promise<CertificatePlan> {
  const changes: string[] = [];
  const found = storedCas(stored, ctx.now, changes);
  if (!found.ca) return freshPlan(stored, ctx, changes);
  const cas = await rotateCas(found.ca, found.next, ctx, changes);
  const serving = await servingPair(stored, cas.ca, ctx, changes);
  const bundle = trustBundle(cas, stored, ctx.now);
  const data = serialize(stored, { ca: cas.ca, serving, next: cas.next, bundle });
  if (changes.length === 0 && !sameData(stored, data)) changes.push("normalized the Secret data");
  if (changes.length === 0) return { data: { ...(stored ?? {}) }, changes };
  return { data, changes };
}

/**
 * The serving material and bundle a Secret holds, when it can be served as is
 * (it may still be due for renewal); undefined when it needs repair.
 */
export function usableMaterial(
  data: SecretData,
  hosts: readonly string[],
  now: Date,
): { material: TlsMaterial; bundle: string } | undefined {
  const ca = usableCa(data[SECRET_KEYS.caCert], data[SECRET_KEYS.caKey], now);
  const serving = parseKeyPair(data[SECRET_KEYS.cert], data[SECRET_KEYS.key]);
  if (!ca || !serving) return undefined;
  if (!isIssuedBy(serving.certificate, ca.certificate) || !isValidAt(serving.certificate, now)) {
    return undefined;
  }
  if (!coversHosts(serving.certificate, hosts)) return undefined;
  const bundle = parseBundle(data[SECRET_KEYS.bundle]);
  if (!bundle.some((c) => c.fingerprint === ca.certificate.fingerprint)) return undefined;
  return {
    material: { cert: serving.certificate.pem, key: serving.key },
    bundle: bundle.map((c) => c.pem).join(""),
  };
}
