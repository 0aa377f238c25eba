import type { Server as HttpsServer } from "node:https";
import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import {
  followCertificates,
  type OpenedTls,
  openTlsSource,
  resolveServingCertificate,
  type ServingCertificate,
  secureOptionsOf,
} from "../certificates/serving.js";
import type { TlsSource } from "../certificates/source.js";
import { loadClusterAdapters } from "../cluster/load.js";
import type { DashboardState } from "../dashboard/state.js";
import { type ExceptionFeed, LiveExceptions } from "../exceptions/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { buildApp, DEFAULT_REQUEST_TIMEOUT_MS } from "./app.js";
import { type Companion, type RunningCompanion, startCompanions } from "./companions.js";
import { guardConnections, maxConnectionsFor, memoryLimit } from "./connections.js";
import { followExceptions } from "./exceptions.js";
import { createReadiness, type Readiness } from "./health.js";
import { createLogger } from "./logger.js";
import { registerCertificateExpiry, registerExceptionGauges } from "./metrics.js";
import { type MetricsListener, startMetricsListener } from "./metrics-listener.js";
import {
  defaultModeOnly,
  labelModeResolver,
  namespaceObjectLookup,
  noNamespaceObjects,
} from "./mode.js";
import type { NamespaceDirectory } from "./namespace-mode.js";
import { type LivePolicies, livePolicies } from "./policies.js";
import { createShutdown, type Shutdown } from "./shutdown.js";
import { handleSignals } from "./signals.js";

export {
  DEFAULT_STATE_DIR,
  type ServingCertificate,
  TLS_MIN_VERSION,
} from "../certificates/serving.js";
export type { Companion, CompanionContext } from "./companions.js";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8443;
export const DEFAULT_DRAIN_DELAY_MS = 5_000;

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
  /** Open connections at most (default: sized to the memory limit, see connections.ts). */
  maxConnections?: number | undefined;
  /** Serve GET /metrics over plain HTTP on this port (0: any free one) instead of the webhook's port. */
  metricsPort?: number | undefined;
  logger?: Logger;
  /** Handle SIGTERM and SIGINT (default true; tests turn it off). */
  signals?: boolean;
  /**
   * Where PolicyExceptions come from (the cluster's watch, src/cluster);
   * without one, no exception applies. The server closes it on shutdown.
   */
  exceptions?: ExceptionFeed | undefined;
  /** Where namespace labels come from: the cluster (default), nowhere, or a given directory. */
  namespaces?: "cluster" | "none" | NamespaceDirectory;
  /** Quiet time after file events before reloading (default 200 ms). */
  watchDebounceMs?: number;
  /** Work that runs beside the webhook once it listens, stopped before it exits. */
  companions?: readonly Companion[];
  /** The background audit's dashboard, served read-only under /dashboard/. */
  dashboard?: DashboardState | undefined;
}

export interface RunningServer {
  app: FastifyInstance;
  host: string;
  port: number;
  /** https://host:port, with IPv6 hosts bracketed. */
  url: string;
  /** http://host:metricsPort/metrics with --metrics-port; else /metrics is on `url`. */
  metricsUrl: string | undefined;
  certificate: ServingCertificate;
  policies(): ResolvedPolicySet;
  /** Fails readiness, waits the drain delay, lets in-flight requests finish, closes. */
  shutdown(reason: string): Promise<void>;
  /** Settles once the server has shut down. */
  closed: Promise<void>;
}

/** ServeOptions with their defaults applied. */
interface Settings {
  logger: Logger;
  host: string;
  requestTimeoutMs: number;
  drainDelayMs: number;
  debounceMs: number;
  configFile: string | undefined;
}

/** What startServer builds before it listens. */
interface Webhook {
  app: FastifyInstance;
  server: HttpsServer;
  registry: Registry;
  readiness: Readiness;
  policies: LivePolicies;
  tls: OpenedTls;
  directory: NamespaceDirectory | undefined;
  exceptions: LiveExceptions | undefined;
}

function settingsOf(options: ServeOptions): Settings {
  return {
    logger: options.logger ?? createLogger(),
    host: options.host ?? DEFAULT_HOST,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    drainDelayMs: options.drainDelayMs ?? DEFAULT_DRAIN_DELAY_MS,
    debounceMs: options.watchDebounceMs ?? 200,
    configFile: options.config ? resolve(options.config) : undefined,
  };
}

async function namespaceDirectory(
  choice: ServeOptions["namespaces"],
  logger: Logger,
): Promise<NamespaceDirectory | undefined> {
  if (choice === "none") return undefined;
  if (choice && choice !== "cluster") return choice;
  const cluster = await loadClusterAdapters();
  let lookups = 0;
  return cluster.clusterNamespaceDirectory({
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

function urlOf(host: string, port: number, scheme = "https"): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `${scheme}://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

/** The Fastify app, with the certificate source's first pair, ready to listen. */
async function buildWebhook(
  options: ServeOptions,
  settings: Settings,
  policies: LivePolicies,
  certificate: ServingCertificate,
): Promise<Webhook> {
  const { logger } = settings;
  const tls = openTlsSource(options.tls, certificate, settings.debounceMs);
  const material = tls.source.current();
  const directory = await namespaceDirectory(options.namespaces, logger);
  const readiness = createReadiness();
  const registry = new Registry();
  registerCertificateExpiry(registry, tls.source);
  const exceptions = options.exceptions ? new LiveExceptions() : undefined;
  if (exceptions) registerExceptionGauges(registry, exceptions);
  const app = buildApp({
    policies: policies.current,
    logger,
    registry,
    resolveMode: directory ? labelModeResolver(directory, logger) : defaultModeOnly,
    namespaceObject: directory ? namespaceObjectLookup(directory, logger) : noNamespaceObjects,
    exceptions: exceptions && (() => exceptions.index()),
    readiness,
    bodyLimit: options.bodyLimit,
    requestTimeoutMs: settings.requestTimeoutMs,
    https: secureOptionsOf(material),
    dashboard: options.dashboard,
    serveMetrics: options.metricsPort === undefined,
  });
  const server = app.server as HttpsServer;
  const max = options.maxConnections ?? maxConnectionsFor(memoryLimit());
  guardConnections(server, max, (reason) => app.tollgate.metrics.connectionsShed.inc({ reason }));
  return { app, server, registry, readiness, policies, tls, directory, exceptions };
}

/**
 * Follows new certificates and PolicySet versions while serving. Returns
 * what closes everything the webhook holds open.
 */
function watchForChanges(webhook: Webhook, options: ServeOptions, settings: Settings): () => void {
  const { logger, debounceMs } = settings;
  const { metrics } = webhook.app.tollgate;
  const managed = options.tls !== undefined;
  const stopCertificate = followCertificates(webhook.tls, webhook.server, metrics, logger, managed);
  const configWatch = webhook.policies.watch(
    logger,
    (ok) => metrics.reloads.inc({ source: "policyset", result: ok ? "success" : "failure" }),
    debounceMs,
  );
  return () => {
    stopCertificate();
    webhook.tls.source.close();
    configWatch?.close();
    webhook.directory?.close();
    options.exceptions?.close();
  };
}

/** Listens, or releases what was opened and rethrows; returns the bound port. */
async function listen(
  webhook: Webhook,
  host: string,
  port: number | undefined,
  release: () => void,
): Promise<number> {
  try {
    await webhook.app.listen({ host, port: port ?? DEFAULT_PORT });
  } catch (error) {
    release();
    throw error;
  }
  const address = webhook.server.address();
  return typeof address === "object" && address ? address.port : (port ?? 0);
}

function logListening(
  logger: Logger,
  urls: { url: string; metricsUrl: string | undefined },
  policies: ResolvedPolicySet,
  certificate: ServingCertificate,
): void {
  logger.info(
    {
      ...urls,
      policySet: policies.source,
      policies: policies.set.policies.length,
      defaultMode: policies.settings.defaultMode,
      certFile: certificate.certFile ?? "(managed)",
    },
    "listening",
  );
}

/**
 * Shutdown wired to the webhook, and to SIGTERM and SIGINT unless turned
 * off, with `release`, which closes everything opened so far.
 */
function prepareShutdown(
  webhook: Webhook,
  options: ServeOptions,
  settings: Settings,
  stopWatching: () => void,
  companions: () => readonly RunningCompanion[],
): { lifecycle: Shutdown; release: () => void } {
  let removeSignals = () => {};
  const release = () => {
    stopWatching();
    removeSignals();
  };
  const lifecycle = createShutdown({
    app: webhook.app,
    server: webhook.server,
    readiness: webhook.readiness,
    logger: settings.logger,
    drainDelayMs: settings.drainDelayMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    companions,
    release,
  });
  if (options.signals !== false) removeSignals = handleSignals(lifecycle, settings.logger);
  return { lifecycle, release };
}

/**
 * Runs the webhook: loads the policies (failing with file and field when they
 * are unusable), sets up TLS, watches the config and certificate files, and
 * listens. Returns once the listener is up.
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const settings = settingsOf(options);
  const { logger, host } = settings;
  const policies = livePolicies(settings.configFile);
  const certificate = await resolveServingCertificate(options, host, logger);
  const webhook = await buildWebhook(options, settings, policies, certificate);
  const stopWatching = watchForChanges(webhook, options, settings);
  if (options.exceptions && webhook.exceptions) {
    await followExceptions(
      options.exceptions,
      webhook.exceptions,
      webhook.app.tollgate.metrics,
      logger,
    );
  }
  if (!webhook.directory) {
    logger.info(
      { defaultMode: policies.current().settings.defaultMode },
      "no cluster configured; namespaces without ?mode= use the default mode",
    );
  }
  let running: RunningCompanion[] = [];
  let metrics: MetricsListener | undefined;
  const { lifecycle, release } = prepareShutdown(
    webhook,
    options,
    settings,
    () => {
      stopWatching();
      metrics?.close();
    },
    () => running,
  );
  // Before the webhook listens, so an unusable metrics port fails the start
  // with nothing to drain.
  if (options.metricsPort !== undefined) {
    const { registry } = webhook;
    try {
      metrics = await startMetricsListener({ host, port: options.metricsPort, registry, logger });
    } catch (error) {
      release();
      throw error;
    }
  }
  const port = await listen(webhook, host, options.port, release);
  const context = { policies: policies.current, registry: webhook.registry, logger };
  running = startCompanions(options.companions ?? [], context);
  const urls = {
    url: urlOf(host, port),
    metricsUrl: metrics ? `${urlOf(host, metrics.port, "http")}/metrics` : undefined,
  };
  logListening(logger, urls, policies.current(), certificate);
  return {
    app: webhook.app,
    host,
    port,
    ...urls,
    certificate,
    policies: policies.current,
    shutdown: lifecycle.shutdown,
    closed: lifecycle.closed,
  };
}
