import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { TlsMaterial, TlsSource } from "./source.js";
import { type FileWatch, watchFiles } from "./watch.js";

/** A certificate and key that cannot be served, with why. */
export class TlsMaterialError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "TlsMaterialError";
  }
}

export interface CertificateInfo {
  subject: string;
  subjectAltName: string | undefined;
  notAfter: Date;
  /** SHA-256 fingerprint, to tell certificates apart in logs. */
  fingerprint: string;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TlsMaterialError(file, `cannot read file (${code})`);
  }
}

/**
 * Checks that a certificate and key belong together and can be served, and
 * describes the certificate. Throws TlsMaterialError naming the culprit.
 */
export function inspectTlsMaterial(
  material: TlsMaterial,
  files: { certFile: string; keyFile: string } = { certFile: "certificate", keyFile: "key" },
): CertificateInfo {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material.cert);
  } catch {
    throw new TlsMaterialError(files.certFile, "is not a PEM certificate");
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(material.key));
  } catch {
    throw new TlsMaterialError(files.keyFile, "is not a PEM private key");
  }
  if (!matches) {
    throw new TlsMaterialError(files.keyFile, `is not the key of ${files.certFile}`);
  }
  try {
    createSecureContext({ cert: material.cert, key: material.key, minVersion: "TLSv1.2" });
  } catch (error) {
    throw new TlsMaterialError(files.certFile, `cannot be served: ${(error as Error).message}`);
  }
  return {
    subject: certificate.subject,
    subjectAltName: certificate.subjectAltName,
    notAfter: new Date(certificate.validTo),
    fingerprint: certificate.fingerprint256,
  };
}

/** Reads and checks a certificate and key pair from disk. */
export function readTlsMaterial(certFile: string, keyFile: string): TlsMaterial {
  const material = { cert: readPem(certFile), key: readPem(keyFile) };
  inspectTlsMaterial(material, { certFile, keyFile });
  return material;
}

export type TlsReloadEvent =
  | { ok: true; info: CertificateInfo }
  | { ok: false; error: TlsMaterialError };

export interface FileTlsSourceOptions {
  certFile: string;
  keyFile: string;
  /** Quiet time after the last file event before the pair is re-read. */
  debounceMs?: number;
  /** How often to compare the files anyway, in case an event was lost. 0 disables. */
  pollIntervalMs?: number;
  /** Told about every reload attempt that found different files, for logs and metrics. */
  onReload?: (event: TlsReloadEvent) => void;
}

/**
 * A serving certificate kept in two PEM files (for example a mounted
 * `kubernetes.io/tls` Secret). When the files change the pair is re-read and
 * checked; listeners only ever see a valid pair, and an invalid one (say, the
 * certificate written but not yet its key) leaves the current pair in place
 * until the next change fixes it.
 */
export class FileTlsSource implements TlsSource {
  private material: TlsMaterial;
  private rejected: TlsMaterial | undefined;
  private readonly listeners = new Set<(material: TlsMaterial) => void>();
  private readonly watch: FileWatch;

  /** Reads the pair now (throwing TlsMaterialError if it is unusable) and starts watching. */
  constructor(private readonly options: FileTlsSourceOptions) {
    this.material = readTlsMaterial(options.certFile, options.keyFile);
    this.watch = watchFiles([options.certFile, options.keyFile], () => this.reload(), {
      debounceMs: options.debounceMs ?? 200,
      pollIntervalMs: options.pollIntervalMs ?? 30_000,
    });
  }

  current(): TlsMaterial {
    return this.material;
  }

  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the files; returns true when a new valid pair was taken. */
  reload(): boolean {
    const { certFile, keyFile, onReload } = this.options;
    let next: TlsMaterial;
    try {
      next = { cert: readPem(certFile), key: readPem(keyFile) };
    } catch (error) {
      // A file missing for a moment, e.g. between unlink and rename: wait for the next event.
      onReload?.({ ok: false, error: error as TlsMaterialError });
      return false;
    }
    if (same(next, this.material) || (this.rejected && same(next, this.rejected))) return false;
    let info: CertificateInfo;
    try {
      info = inspectTlsMaterial(next, { certFile, keyFile });
    } catch (error) {
      this.rejected = next;
      onReload?.({ ok: false, error: error as TlsMaterialError });
      return false;
    }
    this.rejected = undefined;
    this.material = next;
    onReload?.({ ok: true, info });
    for (const listener of this.listeners) listener(next);
    return true;
  }

  close(): void {
    this.watch.close();
    this.listeners.clear();
  }
}

function same(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert === b.cert && a.key === b.key;
}
