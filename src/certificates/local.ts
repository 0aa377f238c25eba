import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { readTlsMaterial } from "./files.js";
import { type CertificateBundle, generateCertificates } from "./generate.js";

/** Where a CA and a serving certificate it signed live on disk. */
export interface CertificateFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export function certificateFilesIn(directory: string): CertificateFiles {
  return {
    caFile: join(directory, "ca.crt"),
    certFile: join(directory, "tls.crt"),
    keyFile: join(directory, "tls.key"),
  };
}

/** Writes through a temporary file and a rename, so watchers never read half a file. */
function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  renameSync(temporary, file);
}

/** Writes ca.crt, tls.crt and tls.key (the key readable by its owner only). */
export function writeCertificateFiles(
  directory: string,
  bundle: CertificateBundle,
): CertificateFiles {
  mkdirSync(directory, { recursive: true });
  const files = certificateFilesIn(directory);
  writeAtomically(files.caFile, bundle.caCert, 0o644);
  // Key before certificate: a watcher that sees only the first write keeps its old pair.
  writeAtomically(files.keyFile, bundle.key, 0o600);
  writeAtomically(files.certFile, bundle.cert, 0o644);
  return files;
}

/** DNS names the API server may use to reach a Service, most specific first. */
export function serviceHosts(service: string, namespace: string): string[] {
  return [
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    `${service}.${namespace}`,
    service,
  ];
}

const WILDCARD_ADDRESSES = new Set(["0.0.0.0", "::", ""]);

/** Names a local development certificate covers: loopback plus the listen host, if specific. */
export function localHosts(listenHost?: string): string[] {
  const hosts = ["localhost", "127.0.0.1", "::1"];
  if (listenHost && !WILDCARD_ADDRESSES.has(listenHost) && !hosts.includes(listenHost)) {
    hosts.push(listenHost);
  }
  return hosts;
}

function covers(certificate: X509Certificate, host: string): boolean {
  return isIP(host)
    ? certificate.checkIP(host) !== undefined
    : certificate.checkHost(host) !== undefined;
}

/** True when the files hold a usable pair for every host, valid for at least `minDays` more. */
function reusable(files: CertificateFiles, hosts: string[], minDays: number, now: Date): boolean {
  if (!existsSync(files.caFile)) return false;
  try {
    const material = readTlsMaterial(files.certFile, files.keyFile);
    const certificate = new X509Certificate(material.cert);
    const ca = new X509Certificate(readFileSync(files.caFile, "utf8"));
    const remainingMs = new Date(certificate.validTo).getTime() - now.getTime();
    return (
      certificate.verify(ca.publicKey) &&
      remainingMs > minDays * 86_400_000 &&
      hosts.every((host) => covers(certificate, host))
    );
  } catch {
    return false;
  }
}

export interface LocalCertificates extends CertificateFiles {
  /** False when usable files from an earlier run were kept. */
  generated: boolean;
  hosts: string[];
}

/**
 * Makes sure `directory` holds a CA and a serving certificate for `hosts`,
 * keeping an earlier run's files while they are valid for another day, so a
 * developer's trusted CA file keeps working across restarts.
 */
export async function ensureLocalCertificates(
  directory: string,
  hosts: string[],
  options: { validDays?: number; now?: Date } = {},
): Promise<LocalCertificates> {
  const now = options.now ?? new Date();
  const files = certificateFilesIn(directory);
  if (reusable(files, hosts, 1, now)) return { ...files, generated: false, hosts };
  const bundle = await generateCertificates({ hosts, validDays: options.validDays ?? 90, now });
  writeCertificateFiles(directory, bundle);
  return { ...files, generated: true, hosts };
}
