import { readFileSync } from "node:fs";
import type { Server as HttpsServer } from "node:https";
import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { registry as policyRegistry } from "../../policies/index.js";
import { clusterNamespaceDirectory } from "../cluster/namespaces.js";
import type { NamespaceDirectory } from "../engine/index.js";
import {
  type LoadedPolicy,
  loadDeclarations,
  loadPolicySetFile,
  PolicyLoadError,
  type ResolvedPolicySet,
} from "../policyset/index.js";
import { FileTlsSource, type TlsReloadEvent } from "../tls/files.js";
import { ensureLocalCertificates, localHosts } from "../tls/local.js";
import type { TlsMaterial, TlsSource } from "../tls/source.js";
import { type FileWatch, watchFiles } from "../tls/watch.js";
import { buildApp, DEFAULT_REQUEST_TIMEOUT_MS } from "./app.js";
import { createReadiness } from "./health.js";
import { createLogger } from "./logger.js";
import { defaultModeOnly, labelModeResolver } from "./mode.js";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8443;
export const DEFAULT_STATE_DIR = ".tollgate";
export const DEFAULT_DRAIN_DELAY_MS = 5_000;
export const TLS_MIN_VERSION = "TLSv1.2";

export interface ServeOptions {
  /** PolicySet file; watched and reloaded when it changes. */
  config?: string | undefined;
  host?: string;
  port?: number;
  /** Serving certificate and key (PEM); both or neither. Watched and reloaded. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /**
   * A certificate source started elsewhere (self-managed certificates in the
   * cluster); it wins over the files. The server closes it on shutdown.
   */
  tls?: TlsSource | undefined;
  /** Where a development CA and certificate go when none is given. */
  stateDir?: string;
  bodyLimit?: number | undefined;
  /** Time between failing /readyz and closing the listener, for endpoints to catch up. */
  drainDelayMs?: number;
  requestTimeoutMs?: number | undefined;
  logger?: Logger;
  /** Handle SIGTERM and SIGINT (default true; tests turn it off). */
  signals?: boolean;
  /** Where namespace labels come from: the cluster (default), nowhere, or a given directory. */
  namespaces?: "cluster" | "none" | NamespaceDirectory;
  /** Quiet time after file events before reloading (default 200 ms). */
  watchDebounceMs?: number;
  /** Work that runs beside the webhook once it listens, stopped before it exits. */
  companions?: readonly Companion[];
}

/** What a companion (such as the background audit) may use of the running server. */
export interface CompanionContext {
  /** The current policy set; it changes when the config file is reloaded. */
  policies: () => ResolvedPolicySet;
  registry: Registry;
  logger: Logger;
}

export type Companion = (context: CompanionContext) => { stop(): Promise<void> };

export interface ServingCertificate {
  /** Unset when the certificate comes from a TlsSource that is not files. */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Set when Tollgate generated a development CA. */
  caFile: string | undefined;
  /** False when an earlier run's development certificate was reused. */
  generated: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  host: string;
  port: number;
  /** https://host:port, with IPv6 hosts bracketed. */
  url: string;
  certificate: ServingCertificate;
  policies(): ResolvedPolicySet;
  /** Fails readiness, waits the drain delay, lets in-flight requests finish, closes. */
  shutdown(reason: string): Promise<void>;
  /** Settles once the server has shut down. */
  closed: Promise<void>;
}

async function servingCertificate(
  options: ServeOptions,
  host: string,
  logger: Logger,
): Promise<ServingCertificate> {
  if (options.tls) {
    return { certFile: undefined, keyFile: undefined, caFile: undefined, generated: false };
  }
  if (options.certFile && options.keyFile) {
    return {
      certFile: resolve(options.certFile),
      keyFile: resolve(options.keyFile),
      caFile: undefined,
      generated: false,
    };
  }
  if (options.certFile || options.keyFile) {
    throw new Error("--cert and --key go together: give both or neither");
  }
  const directory = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
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

function namespaceDirectory(
  choice: ServeOptions["namespaces"],
  logger: Logger,
): NamespaceDirectory | undefined {
  if (choice === "none") return undefined;
  if (choice && choice !== "cluster") return choice;
  let lookups = 0;
  return clusterNamespaceDirectory({
    onError: (namespace, error) => {
      // One line per failed lookup; the cache keeps the next requests from repeating it.
      lookups++;
      logger.warn(
        { namespace, error: error.message.slice(0, 300), failures: lookups },
        "namespace lookup failed; the namespace gets the default mode for now",
      );
    },
  });
}

/** Watches the PolicySet file and swaps the policy set when a valid new one appears. */
function watchPolicySet(
  file: string,
  declarations: readonly LoadedPolicy[],
  swap: (next: ResolvedPolicySet) => void,
  logger: Logger,
  onResult: (ok: boolean) => void,
  debounceMs: number,
): FileWatch {
  let lastText = readText(file);
  return watchFiles(
    [file],
    () => {
      const text = readText(file);
      if (text === undefined || text === lastText) return;
      lastText = text;
      try {
        const next = loadPolicySetFile(declarations, file);
        swap(next);
        onResult(true);
        logger.info(
          { file, policies: next.set.policies.length, defaultMode: next.settings.defaultMode },
          "policy set reloaded",
        );
      } catch (error) {
        onResult(false);
        if (error instanceof PolicyLoadError) {
          logger.error(
            { file: error.file, field: error.field || undefined, problem: error.problem },
            `policy set not reloaded, the previous one stays in force: ${error.message}`,
          );
        } else {
          logger.error(
            { file, error: (error as Error).message },
            "policy set not reloaded, the previous one stays in force",
          );
        }
      }
    },
    { debounceMs },
  );
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function urlOf(host: string, port: number): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `https://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

/**
 * Runs the webhook: loads the policies (failing with file and field when they
 * are unusable), sets up TLS, watches the config and certificate files, and
 * listens. Returns once the listener is up.
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger();
  const host = options.host ?? DEFAULT_HOST;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const drainDelayMs = options.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS;
  const debounceMs = options.watchDebounceMs ?? 200;
  const configFile = options.config ? resolve(options.config) : undefined;

  const declarations = loadDeclarations(policyRegistry);
  let policies = loadPolicySetFile(declarations, configFile);

  const certificate = await servingCertificate(options, host, logger);
  // Reload events only come from file watchers, after the metrics below exist.
  let reportTls: (event: TlsReloadEvent) => void = () => {};
  const tls =
    options.tls ??
    new FileTlsSource({
      certFile: certificate.certFile ?? "",
      keyFile: certificate.keyFile ?? "",
      debounceMs,
      onReload: (event) => reportTls(event),
    });
  const material = tls.current();

  const directory = namespaceDirectory(options.namespaces, logger);
  const readiness = createReadiness();
  const metricsRegistry = new Registry();
  const app = buildApp({
    policies: () => policies,
    logger,
    registry: metricsRegistry,
    resolveMode: directory ? labelModeResolver(directory, logger) : defaultModeOnly,
    readiness,
    bodyLimit: options.bodyLimit,
    requestTimeoutMs,
    https: { cert: material.cert, key: material.key, minVersion: TLS_MIN_VERSION },
  });
  const { metrics } = app.tollgate;
  const server = app.server as HttpsServer;

  // Certificates: every valid new pair goes to the listener; old connections keep theirs.
  const applyCertificate = (next: TlsMaterial) => {
    try {
      server.setSecureContext({ cert: next.cert, key: next.key, minVersion: TLS_MIN_VERSION });
      if (options.tls) {
        metrics.reloads.inc({ source: "certificate", result: "success" });
        logger.info("serving certificate replaced");
      }
    } catch (error) {
      metrics.reloads.inc({ source: "certificate", result: "failure" });
      logger.error({ error: (error as Error).message }, "could not apply the new certificate");
    }
  };
  const stopCertificate = tls.onChange(applyCertificate);
  reportTls = (event) => {
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
  };

  const configWatch = configFile
    ? watchPolicySet(
        configFile,
        declarations,
        (next) => {
          policies = next;
        },
        logger,
        (ok) => metrics.reloads.inc({ source: "policyset", result: ok ? "success" : "failure" }),
        debounceMs,
      )
    : undefined;

  if (!directory) {
    logger.info(
      { defaultMode: policies.settings.defaultMode },
      "no cluster configured; namespaces without ?mode= use the default mode",
    );
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((done) => {
    resolveClosed = done;
  });
  let shuttingDown: Promise<void> | undefined;
  let running: { stop(): Promise<void> }[] = [];

  const release = () => {
    stopCertificate();
    tls.close();
    configWatch?.close();
    directory?.close();
    removeSignals();
  };

  const shutdown = (reason: string): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      readiness.beginShutdown();
      logger.info({ reason, drainDelayMs }, "shutting down: /readyz now fails; draining");
      if (drainDelayMs > 0) await new Promise((done) => setTimeout(done, drainDelayMs));
      // Requests still in flight get their full timeout, then their connections go.
      const force = setTimeout(() => server.closeAllConnections(), requestTimeoutMs + 1_000);
      force.unref();
      try {
        await Promise.all(running.map((companion) => companion.stop()));
        await app.close();
      } finally {
        clearTimeout(force);
        release();
        logger.info({ reason }, "stopped");
        resolveClosed();
      }
    })();
    return shuttingDown;
  };

  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  function removeSignals() {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
  }
  if (options.signals !== false) {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const handler = () => {
        if (shuttingDown) {
          logger.warn({ signal }, "second signal while draining; exiting now");
          process.exit(1);
        }
        void shutdown(signal);
      };
      signalHandlers.push([signal, handler]);
      process.on(signal, handler);
    }
  }

  try {
    await app.listen({ host, port: options.port ?? DEFAULT_PORT });
  } catch (error) {
    release();
    throw error;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const context = { policies: () => policies, registry: metricsRegistry, logger };
  running = (options.companions ?? []).map((start) => start(context));
  logger.info(
    {
      url: urlOf(host, port),
      policySet: policies.source,
      policies: policies.set.policies.length,
      defaultMode: policies.settings.defaultMode,
      certFile: certificate.certFile ?? "(managed)",
    },
    "listening",
  );

  return {
    app,
    host,
    port,
    url: urlOf(host, port),
    certificate,
    policies: () => policies,
    shutdown,
    closed,
  };
}
