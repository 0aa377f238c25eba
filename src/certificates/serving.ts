import type { Server as HttpsServer } from "node:https";
import { resolve } from "node:path";
import type { SecureVersion } from "node:tls";
import type { Logger } from "pino";
import { FileTlsSource, type TlsReloadEvent } from "./files.js";
import { ensureLocalCertificates, localHosts } from "./local.js";
import type { TlsMaterial, TlsSource } from "./source.js";

/**
 * The one metric certificate reloads count in (the server's
 * `tollgate_reloads_total`); named here so this folder needs nothing of the server.
 */
interface ReloadMetrics {
  reloads: { inc(labels: { source: "certificate"; result: "success" | "failure" }): void };
}

export const DEFAULT_STATE_DIR = ".tollgate";
export const TLS_MIN_VERSION = "TLSv1.2";
/**
 * Forward secrecy and authenticated encryption only: on TLS 1.2, ECDHE with
 * AES-GCM or ChaCha20-Poly1305 (what the API server's Go client offers first);
 * no CBC, CCM or ARIA. The TLS 1.3 suites are all AEAD and stay as they are.
 */
export const TLS_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export interface ServingCertificate {
  /** Unset when the certificate comes from a TlsSource that is not files. */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Set when Tollgate generated a development CA. */
  caFile: string | undefined;
  /** False when an earlier run's development certificate was reused. */
  generated: boolean;
}

/** Where the serving certificate comes from, as `serve` is asked for it. */
export interface CertificateChoice {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  tls?: TlsSource | undefined;
  stateDir?: string;
}

/** The certificate source plus a late hook for its reload events. */
export interface OpenedTls {
  source: TlsSource;
  /** Where file reload events go from now on; until set they are dropped. */
  reportReloadsTo(report: (event: TlsReloadEvent) => void): void;
}

async function developmentCertificate(
  stateDir: string | undefined,
  host: string,
  logger: Logger,
): Promise<ServingCertificate> {
  const directory = resolve(stateDir ?? DEFAULT_STATE_DIR);
  const local = await ensureLocalCertificates(directory, localHosts(host));
  logger.info(
    { caFile: local.caFile, hosts: local.hosts, generated: local.generated },
    local.generated
      ? "generated a development CA and serving certificate"
      : "reusing the development certificate",
  );
  return {
    certFile: local.certFile,
    keyFile: local.keyFile,
    caFile: local.caFile,
    generated: local.generated,
  };
}

/**
 * The certificate to serve: a given source, given files, or else a
 * development CA and certificate in the state directory, made once.
 */
export async function resolveServingCertificate(
  choice: CertificateChoice,
  host: string,
  logger: Logger,
): Promise<ServingCertificate> {
  if (choice.tls) {
    return { certFile: undefined, keyFile: undefined, caFile: undefined, generated: false };
  }
  if (choice.certFile && choice.keyFile) {
    return {
      certFile: resolve(choice.certFile),
      keyFile: resolve(choice.keyFile),
      caFile: undefined,
      generated: false,
    };
  }
  if (choice.certFile || choice.keyFile) {
    throw new Error("--cert and --key go together: give both or neither");
  }
  return developmentCertificate(choice.stateDir, host, logger);
}

/** The given source, or one that watches the certificate files. */
export function openTlsSource(
  given: TlsSource | undefined,
  certificate: ServingCertificate,
  debounceMs: number,
): OpenedTls {
  // Reload events only come from file watchers, after the metrics that count them exist.
  let report: (event: TlsReloadEvent) => void = () => {};
  const source =
    given ??
    new FileTlsSource({
      certFile: certificate.certFile ?? "",
      keyFile: certificate.keyFile ?? "",
      debounceMs,
      onReload: (event) => report(event),
    });
  return {
    source,
    reportReloadsTo: (next) => {
      report = next;
    },
  };
}

/** Listener TLS options for a certificate and key. */
export function secureOptionsOf(material: TlsMaterial): {
  cert: string;
  key: string;
  minVersion: SecureVersion;
  ciphers: string;
  honorCipherOrder: boolean;
} {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
  };
}

/**
 * Puts a new pair on the listener; old connections keep theirs. A source
 * that is not files reports its own rotations here, files in their reload event.
 */
function applyCertificate(
  server: HttpsServer,
  next: TlsMaterial,
  metrics: ReloadMetrics,
  logger: Logger,
  reportSuccess: boolean,
): void {
  try {
    server.setSecureContext(secureOptionsOf(next));
    if (reportSuccess) {
      metrics.reloads.inc({ source: "certificate", result: "success" });
      logger.info("serving certificate replaced");
    }
  } catch (error) {
    metrics.reloads.inc({ source: "certificate", result: "failure" });
    logger.error({ error: (error as Error).message }, "could not apply the new certificate");
  }
}

function reportFileReload(event: TlsReloadEvent, metrics: ReloadMetrics, logger: Logger): void {
  metrics.reloads.inc({ source: "certificate", result: event.ok ? "success" : "failure" });
  if (event.ok) {
    logger.info(
      { fingerprint: event.info.fingerprint, notAfter: event.info.notAfter.toISOString() },
      "serving certificate reloaded",
    );
  } else {
    logger.warn(
      { file: event.error.file, problem: event.error.problem },
      "certificate files changed but are not a usable pair yet; still serving the previous certificate",
    );
  }
}

/**
 * Sends every valid new certificate to the listener and counts reloads.
 * Returns what stops following the source.
 */
export function followCertificates(
  tls: OpenedTls,
  server: HttpsServer,
  metrics: ReloadMetrics,
  logger: Logger,
  managed: boolean,
): () => void {
  const stop = tls.source.onChange((next) =>
    applyCertificate(server, next, metrics, logger, managed),
  );
  tls.reportReloadsTo((event) => reportFileReload(event, metrics, logger));
  return stop;
}
