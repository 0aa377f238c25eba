import { X509Certificate } from "node:crypto";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Unix seconds at which a certificate stops being valid. */
export interface CertificateExpiry {
  serving?: number;
  ca?: number;
}

function parseAll(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      // An unparseable block says nothing about expiry; the listener rejects it anyway.
    }
  }
  return out;
}

/**
 * When the serving certificate (the first of `servingPem`) and the CA that
 * issued it expire. The CA is looked for in the served chain, then in
 * `caBundle`; when neither holds it, only the serving expiry is known.
 */
export function certificateExpiry(servingPem: string, caBundle = ""): CertificateExpiry {
  const [leaf, ...chain] = parseAll(servingPem);
  if (!leaf) return {};
  const seconds = (x509: X509Certificate) => Math.floor(Date.parse(x509.validTo) / 1000);
  // checkIssued compares names only; the signature tells CAs with one name apart.
  const issuers = [...chain, ...parseAll(caBundle)].filter(
    (c) => leaf.checkIssued(c) && leaf.verify(c.publicKey),
  );
  const ca = issuers.map(seconds).sort((a, b) => b - a)[0];
  return { serving: seconds(leaf), ...(ca === undefined ? {} : { ca }) };
}
