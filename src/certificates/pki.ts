// X.509 helpers for the in-cluster certificate manager: reading what a Secret
// holds, checking it, and issuing a serving certificate from an existing CA
// (generate.ts always creates a fresh CA, which renewal must not do).
import { createPrivateKey, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { generate } from "selfsigned";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** A parsed certificate with the PEM it came from. */
export interface Certificate {
  pem: string;
  x509: X509Certificate;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint, used to compare certificates without comparing PEM text. */
  fingerprint: string;
}

/** A certificate and its private key, PEM-encoded, known to belong together. */
export interface KeyPair {
  certificate: Certificate;
  key: string;
}

/** Every CERTIFICATE block in `text`, normalized to end with one newline. */
export function splitCertificates(text: string): string[] {
  return (text.match(PEM_CERTIFICATE) ?? []).map((block) => `${block.trim()}\n`);
}

/** Parses the first certificate in `pem`, or undefined when there is none or it is garbage. */
export function parseCertificate(pem: string | undefined): Certificate | undefined {
  if (!pem) return undefined;
  const [first] = splitCertificates(pem);
  if (!first) return undefined;
  try {
    const x509 = new X509Certificate(first);
    const notBefore = new Date(x509.validFrom);
    const notAfter = new Date(x509.validTo);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
    return { pem: first, x509, notBefore, notAfter, fingerprint: x509.fingerprint256 };
  } catch {
    return undefined;
  }
}

/** All parseable certificates of a bundle, in order, duplicates removed. */
export function parseBundle(text: string | undefined): Certificate[] {
  const seen = new Set<string>();
  const out: Certificate[] = [];
  for (const block of splitCertificates(text ?? "")) {
    const cert = parseCertificate(block);
    if (!cert || seen.has(cert.fingerprint)) continue;
    seen.add(cert.fingerprint);
    out.push(cert);
  }
  return out;
}

/**
 * The certificate and key as a pair, or undefined when either is unreadable,
 * the key is not an EC key (all Tollgate issues) or does not match.
 */
export function parseKeyPair(
  certPem: string | undefined,
  keyPem: string | undefined,
): KeyPair | undefined {
  const certificate = parseCertificate(certPem);
  if (!certificate || !keyPem) return undefined;
  try {
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== "ec") return undefined;
    if (!certificate.x509.checkPrivateKey(key)) return undefined;
  } catch {
    return undefined;
  }
  return { certificate, key: keyPem };
}

export function isValidAt(cert: Certificate, now: Date): boolean {
  return cert.notBefore.getTime() <= now.getTime() && now.getTime() < cert.notAfter.getTime();
}

/** True when `cert` names `ca` as issuer and carries its signature. */
export function isIssuedBy(cert: Certificate, ca: Certificate): boolean {
  try {
    return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.x509.publicKey);
  } catch {
    return false;
  }
}

/** DNS names and IP addresses of the subjectAltName extension. */
export function subjectAltNames(cert: Certificate): string[] {
  const raw = cert.x509.subjectAltName ?? "";
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ""))
    .filter((entry) => entry !== "");
}

export function coversHosts(cert: Certificate, hosts: readonly string[]): boolean {
  const names = new Set(subjectAltNames(cert).map((n) => n.toLowerCase()));
  return hosts.every((host) => names.has(host.toLowerCase()));
}

/** Fraction of the certificate's lifetime still ahead at `now` (0 when expired). */
export function remainingFraction(cert: Certificate, now: Date): number {
  const total = cert.notAfter.getTime() - cert.notBefore.getTime();
  if (total <= 0) return 0;
  return Math.max(0, (cert.notAfter.getTime() - now.getTime()) / total);
}

/** Signs a new serving certificate for `hosts` with an existing CA. */
export async function issueServingCertificate(request: {
  ca: KeyPair;
  hosts: readonly string[];
  notAfter: Date;
  now: Date;
}): Promise<KeyPair> {
  const { ca, hosts, notAfter, now } = request;
  const [commonName = "localhost"] = hosts;
  const issued = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    // A minute of slack for clocks that run a little behind the issuer's.
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: notAfter,
    ca: { key: ca.key, cert: ca.certificate.pem },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: hosts.map((host) =>
          isIP(host) ? { type: 7 as const, ip: host } : { type: 2 as const, value: host },
        ),
      },
    ],
  });
  const pair = parseKeyPair(issued.cert, issued.private);
  if (!pair) throw new Error("issued serving certificate does not match its key");
  return pair;
}
