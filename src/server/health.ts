import type { FastifyInstance } from "fastify";

/**
 * Whether the webhook should receive traffic. Shutdown flips it first, so
 * the Service stops routing new requests here before the listener closes.
 */
export interface Readiness {
  readonly shuttingDown: boolean;
  /** The listener is closing: every answer now closes its connection. */
  readonly closing: boolean;
  beginShutdown(): void;
  beginClosing(): void;
}

export function createReadiness(): Readiness {
  let shuttingDown = false;
  let closing = false;
  return {
    get shuttingDown() {
      return shuttingDown;
    },
    get closing() {
      return closing;
    },
    beginShutdown() {
      shuttingDown = true;
    },
    beginClosing() {
      shuttingDown = true;
      closing = true;
    },
  };
}

/** GET /healthz (the process answers) and GET /readyz (policies loaded, not shutting down). */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { readiness, policies } = app.tollgate;
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    if (readiness.shuttingDown) {
      reply.code(503);
      return { status: "shutting down" };
    }
    const current = policies();
    if (!current) {
      reply.code(503);
      return { status: "policy set not loaded" };
    }
    return { status: "ready", policySet: current.source, policies: current.set.policies.length };
  });
}
