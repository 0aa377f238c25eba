import { isIP } from "node:net";
import { generate } from "selfsigned";

/** PEM-encoded material for a private CA and one serving certificate it signed. */
export interface CertificateBundle {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  /** When the serving certificate stops being valid. */
  notAfter: Date;
}

export interface CertificateRequest {
  /** DNS names and IP addresses the serving certificate is valid for; the first is its CN. */
  hosts: string[];
  /** Lifetime of the serving certificate. The CA lives ten times as long. */
  validDays: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

function subjectAltNames(hosts: string[]) {
  return hosts.map((host) =>
    isIP(host) ? { type: 7 as const, ip: host } : { type: 2 as const, value: host },
  );
}

/** Creates a fresh CA and a serving certificate for `hosts`, signed by it. */
export async function generateCertificates(
  request: CertificateRequest,
): Promise<CertificateBundle> {
  const now = request.now ?? new Date();
  const [commonName = "localhost"] = request.hosts;
  const notAfter = new Date(now.getTime() + request.validDays * DAY_MS);
  // A distinct name per CA: during a rotation two CAs sit in one bundle, and
  // OpenSSL-based clients cannot tell apart issuers with the same subject.
  const caName = `tollgate-ca-${now.toISOString().replace(/[-:.TZ]/g, "")}`;
  const ca = await generate([{ name: "commonName", value: caName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + request.validDays * 10 * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      {
        name: "keyUsage",
        keyCertSign: true,
        cRLSign: true,
        digitalSignature: true,
        critical: true,
      },
    ],
  });
  const serving = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: notAfter,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: subjectAltNames(request.hosts) },
    ],
  });
  return { caCert: ca.cert, caKey: ca.private, cert: serving.cert, key: serving.private, notAfter };
}
