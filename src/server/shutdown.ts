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

/** Fails readiness, waits the drain delay, lets in-flight requests finish, closes. */
async function drain(deps: DrainDeps, reason: string, stopped: () => void): Promise<void> {
  const { logger, drainDelayMs, server } = deps;
  deps.readiness.beginShutdown();
  logger.info({ reason, drainDelayMs }, "shutting down: /readyz now fails; draining");
  if (drainDelayMs > 0) await new Promise((done) => setTimeout(done, drainDelayMs));
  // Requests still in flight get their full timeout, then their connections go.
  const force = setTimeout(() => server.closeAllConnections(), deps.requestTimeoutMs + 1_000);
  force.unref();
  try {
    await Promise.all(deps.companions().map((companion) => companion.stop()));
    await deps.app.close();
  } finally {
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
