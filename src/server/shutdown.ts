import type { Server as HttpsServer } from "node:https";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Readiness } from "./health.js";

export interface DrainDeps {
  app: FastifyInstance;
  server: HttpsServer;
  readiness: Readiness;
  logger: Logger;
  /** Time between failing /readyz and closing the listener, for endpoints to catch up. */
  drainDelayMs: number;
  requestTimeoutMs: number;
  /** The companions running when the drain reaches them; they stop before the listener closes. */
  companions: () => readonly { stop(): Promise<void> }[];
  /** Closes watches, sources and signal handlers; runs last, whatever happened. */
  release: () => void;
}

export interface Shutdown {
  /** Starts the drain once; later calls return the same promise. */
  shutdown(reason: string): Promise<void>;
  /** Whether a shutdown has begun. */
  readonly started: boolean;
  /** Settles once the server has shut down. */
  closed: Promise<void>;
}

/** How long an idle connection may still bring a request once the listener closes. */
export const DRAIN_IDLE_GRACE_MS = 2_000;

/**
 * Makes closing the listener leave open connections alone: Node's close() would
 * cut idle keep-alive connections, and a request the client wrote at that
 * moment would meet a reset. Returns what cuts the idle ones after all.
 */
function keepIdleConnections(server: HttpsServer): () => void {
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {};
  return closeIdle;
}

/**
 * Fails readiness and keeps serving for the drain delay (connections stay
 * alive: no handshake storm). Then the listener closes, each connection ends
 * after its next answer (Connection: close), and the server waits for them:
 * a connection idle DRAIN_IDLE_GRACE_MS after that is closed (a client that
 * keeps sending has sent by then; one that does not is truly idle), and one
 * still busy the request timeout plus a second later is cut.
 */
async function drain(deps: DrainDeps, reason: string, stopped: () => void): Promise<void> {
  const { logger, drainDelayMs, server } = deps;
  deps.readiness.beginShutdown();
  logger.info({ reason, drainDelayMs }, "shutting down: /readyz now fails; draining");
  if (drainDelayMs > 0) await new Promise((done) => setTimeout(done, drainDelayMs));
  deps.readiness.beginClosing();
  const closeIdle = keepIdleConnections(server);
  const idleGone = setTimeout(closeIdle, Math.min(DRAIN_IDLE_GRACE_MS, deps.requestTimeoutMs));
  const force = setTimeout(() => server.closeAllConnections(), deps.requestTimeoutMs + 1_000);
  idleGone.unref();
  force.unref();
  try {
    await Promise.all(deps.companions().map((companion) => companion.stop()));
    await deps.app.close();
  } finally {
    clearTimeout(idleGone);
    clearTimeout(force);
    deps.release();
    logger.info({ reason }, "stopped");
    stopped();
  }
}

export function createShutdown(deps: DrainDeps): Shutdown {
  let resolveClosed!: () => void;
  const closed = new Promise<void>((done) => {
    resolveClosed = done;
  });
  let shuttingDown: Promise<void> | undefined;
  return {
    closed,
    get started() {
      return shuttingDown !== undefined;
    },
    shutdown(reason) {
      shuttingDown ??= drain(deps, reason, resolveClosed);
      return shuttingDown;
    },
  };
}
