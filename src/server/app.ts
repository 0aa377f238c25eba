import type { ServerOptions as HttpsOptions } from "node:https";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyServerFactory,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { dashboardRoutes } from "../dashboard/routes.js";
import type { DashboardState } from "../dashboard/state.js";
import type { ExceptionIndex } from "../exceptions/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { HANDSHAKE_TIMEOUT_MS, IDLE_TIMEOUT_MS, TIMEOUT_CHECK_INTERVAL_MS } from "./connections.js";
import { timeHandshakes } from "./connections-handshake.js";
import { healthRoutes, type Readiness } from "./health.js";
import { createMetrics, metricsRoutes, type TollgateMetrics } from "./metrics.js";
import { type ModeResolver, type NamespaceObjectLookup, noNamespaceObjects } from "./mode.js";
import { admissionRoutes } from "./routes.js";

/** At least 3 MiB is needed: an UPDATE carries the object twice, and objects reach 1.5 MiB. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;
/** The API server gives up on a webhook after its timeoutSeconds (10 by default). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Longer than the API server's idle timeout for webhook connections (90s), so
 * the client always closes an idle connection first and never sends a request
 * on one the server is closing.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 120_000;

export interface AppDeps {
  /** The policy set to decide with right now; hot reload swaps what it returns. */
  policies: () => ResolvedPolicySet | undefined;
  logger: Logger;
  /** Tollgate's metrics are registered here (never on prom-client's global registry). */
  registry: Registry;
  resolveMode: ModeResolver;
  /** `namespaceObject` for CEL policies (none when absent). */
  namespaceObject?: NamespaceObjectLookup;
  /** The PolicyExceptions held right now (none when absent); a watch keeps them current. */
  exceptions?: () => ExceptionIndex;
  readiness: Readiness;
  bodyLimit?: number;
  /** Longest time to receive a request and to answer it. */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Serve TLS with these options (cert, key, minVersion …). */
  https?: HttpsOptions;
  /** Or bring your own server; timeouts are then the factory's business. */
  serverFactory?: FastifyServerFactory;
  /** Default process metrics on the registry (default true). */
  processMetrics?: boolean;
  /** The background audit's dashboard, served read-only under /dashboard/ when given. */
  dashboard?: DashboardState | undefined;
  /** GET /metrics on this app (default true; false when --metrics-port serves it elsewhere). */
  serveMetrics?: boolean;
}

/** What the route plugins share, as one decoration of the root instance. */
export interface TollgateContext {
  policies: () => ResolvedPolicySet | undefined;
  resolveMode: ModeResolver;
  namespaceObject: NamespaceObjectLookup;
  exceptions: () => ExceptionIndex;
  readiness: Readiness;
  registry: Registry;
  metrics: TollgateMetrics;
}

const NO_EXCEPTIONS: ExceptionIndex = new Map();

declare module "fastify" {
  interface FastifyInstance {
    tollgate: TollgateContext;
  }
}

const ERROR_NAMES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A message for the client that never echoes the body (JSON errors quote it). */
function publicMessage(error: FastifyError, statusCode: number, bodyLimit: number): string {
  if (error instanceof SyntaxError) return "request body is not valid JSON";
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "request body is not valid JSON";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return `request body is larger than ${bodyLimit} bytes`;
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "Content-Type must be application/json";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "request body is empty; expected an AdmissionReview";
    case "FST_ERR_HANDLER_TIMEOUT":
      return "the webhook did not answer in time";
  }
  return statusCode >= 500 ? "internal error" : error.message;
}

/**
 * Timeouts Node's HTTPS server applies itself: how often the request timeout
 * is checked (Node's default, 30 s, let a slow body run 8 times past
 * --request-timeout), and the TLS handshake's only as a backstop: the
 * handshake is timed by timeHandshakes, which does not count time the server
 * itself was blocked. The request timeout covers the headers too. No shorter
 * headersTimeout: with one, Node (20) stopped closing TLS connections that
 * never send a request.
 */
const LISTENER_LIMITS = {
  handshakeTimeout: 3 * HANDSHAKE_TIMEOUT_MS,
  connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
};

/**
 * The webhook as a Fastify instance that has not been started: tests call
 * `inject`, `startServer` calls `listen`. Routes: POST /validate[/<mode>],
 * POST /mutate[/<mode>], POST /guard/mode-label, GET /healthz, GET /readyz,
 * GET /metrics, and with
 * a dashboard state GET /dashboard/ (docs/dashboard.md).
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const requestTimeout = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const options = {
    loggerInstance: deps.logger,
    // One decision line per request is enough; Fastify's own pair would double it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // Receiving a request is bounded here. The handler needs no timer of its
    // own: the engine is synchronous and the one await, a namespace label
    // lookup, has its own 1 s timeout; a per-request timer cost ~30% of CPU.
    requestTimeout,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    // A connection silent this long before its request is done is closed;
    // between requests keepAliveTimeout applies instead.
    connectionTimeout: IDLE_TIMEOUT_MS,
    // Requests that arrive while closing are still answered (with Connection:
    // close): a 503 would fail an API server call that could have succeeded.
    return503OnClosing: false,
    // Idle keep-alive connections are not cut when closing (a request the
    // client sent at that moment would meet a reset); shutdown.ts lets each
    // one end after its next answer instead.
    forceCloseConnections: false,
    // Objects are data: a ConfigMap may well have a key named __proto__.
    // Nothing here merges request data into other objects.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    // The request timeout again, for Node's constructor: Fastify sets it on
    // the server afterwards, which Node (20) applies to headers but not to
    // bodies, so a body sent a byte a second was never cut (npm run flood).
    ...(deps.https ? { https: { ...LISTENER_LIMITS, requestTimeout, ...deps.https } } : {}),
    ...(deps.serverFactory ? { serverFactory: deps.serverFactory } : {}),
  } as const;
  const app = Fastify(options) as unknown as FastifyInstance;
  if (deps.https) timeHandshakes(app.server, HANDSHAKE_TIMEOUT_MS);

  app.decorate("tollgate", {
    policies: deps.policies,
    resolveMode: deps.resolveMode,
    namespaceObject: deps.namespaceObject ?? noNamespaceObjects,
    exceptions: deps.exceptions ?? (() => NO_EXCEPTIONS),
    readiness: deps.readiness,
    registry: deps.registry,
    metrics: createMetrics(deps.registry, { processMetrics: deps.processMetrics }),
  } satisfies TollgateContext);

  // Once the listener closes, every answer closes its connection: the client
  // learns it from the header, so nothing it sends is cut. Not before: during
  // the drain delay this replica may still be the one the Service routes to,
  // and closing after every answer would make each request a new handshake.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (deps.readiness.closing) reply.header("connection", "close");
    done(null, payload);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode =
      error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) {
      request.log.error({ err: error, method: request.method, url: request.url }, "request failed");
    } else {
      // The code only: a JSON syntax error's message quotes the body.
      request.log.warn(
        { statusCode, code: error.code ?? error.name, method: request.method, url: request.url },
        "rejected a request",
      );
    }
    reply.code(statusCode).send({
      statusCode,
      error: ERROR_NAMES[statusCode] ?? "Error",
      message: publicMessage(error, statusCode, bodyLimit),
    });
  });

  const serveMetrics = deps.serveMetrics !== false;
  const served = `POST /validate[/<mode>], POST /mutate[/<mode>], POST /guard/mode-label, GET /healthz${serveMetrics ? ", GET /readyz and GET /metrics" : " and GET /readyz"}`;
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: "Not Found",
      message: `no route ${request.method} ${request.url.split("?")[0]}; the webhook serves ${served}`,
    });
  });

  app.register(healthRoutes);
  if (serveMetrics) app.register(metricsRoutes);
  app.register(admissionRoutes);
  if (deps.dashboard)
    app.register(dashboardRoutes, { prefix: "/dashboard", state: deps.dashboard });
  return app;
}
