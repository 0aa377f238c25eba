import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { guardConnections } from "./connections.js";

/**
 * Scrapers are few (one Prometheus per cluster, maybe two during a
 * migration); the cap only keeps a misbehaving one from costing memory.
 */
export const METRICS_MAX_CONNECTIONS = 16;
/** A scrape request arrives at once; a client still sending after this is gone. */
export const METRICS_REQUEST_TIMEOUT_MS = 5_000;
/** Longer than Prometheus' default 30 s interval, so a scraper's connection is reused. */
export const METRICS_KEEP_ALIVE_MS = 65_000;

export interface MetricsListener {
  port: number;
  /** Stops listening and cuts open scrapes: nothing depends on a scrape finishing. */
  close(): void;
}

/**
 * GET /metrics on its own plain-HTTP port (`--metrics-port`), so that a
 * NetworkPolicy can admit scrapers from chosen namespaces without opening
 * the webhook port's metrics to everyone who may reach the webhook. Plain
 * HTTP because the answer holds counts only, never object content, and the
 * scraper then needs no CA; the NetworkPolicy is the guard.
 */
export async function startMetricsListener(options: {
  host: string;
  port: number;
  registry: Registry;
  logger: Logger;
}): Promise<MetricsListener> {
  const { registry, logger } = options;
  const server: Server = createServer(
    {
      requestTimeout: METRICS_REQUEST_TIMEOUT_MS,
      headersTimeout: METRICS_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: METRICS_KEEP_ALIVE_MS,
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      const path = (request.url ?? "").split("?")[0];
      if (request.method !== "GET" || path !== "/metrics") {
        response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: Error) => {
          logger.error({ err: error }, "metrics collection failed");
          response.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
        },
      );
    },
  );
  guardConnections(server, METRICS_MAX_CONNECTIONS);
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(options.port, options.host, () => {
      server.off("error", failed);
      listening();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
