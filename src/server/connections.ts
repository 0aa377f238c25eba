import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server, Socket } from "node:net";
import { totalmem } from "node:os";

/** A TLS handshake takes milliseconds; a client still shaking hands after this is gone. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** A connection that sends nothing for this long before or inside a request is closed. */
export const IDLE_TIMEOUT_MS = 10_000;
/** How often Node checks the request timeout; also its resolution. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Memory one open TLS connection may cost, with margin: an idle one measured
 * ~33 KiB of RSS (issue 14); handshakes and partly read requests cost more.
 */
export const CONNECTION_BUDGET_BYTES = 64 * 1024;
/** What the process needs without any connection: V8, policies, TLS, metrics. */
export const BASELINE_BYTES = 128 * 1024 * 1024;
export const MIN_CONNECTIONS = 64;
export const MAX_CONNECTIONS = 8_192;

/**
 * The connection cap for a memory limit: half of what the baseline leaves,
 * at CONNECTION_BUDGET_BYTES each (a 256 MiB pod gets 1,024), within
 * MIN_CONNECTIONS..MAX_CONNECTIONS.
 */
export function maxConnectionsFor(memoryLimitBytes: number): number {
  const spare = Math.max(0, memoryLimitBytes - BASELINE_BYTES) / 2;
  const fits = Math.floor(spare / CONNECTION_BUDGET_BYTES);
  return Math.min(MAX_CONNECTIONS, Math.max(MIN_CONNECTIONS, fits));
}

/** The container's memory limit (cgroup), else the machine's memory. */
export function memoryLimit(): number {
  const machine = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  // Without a limit the cgroup reports a huge number (2^64 - 1).
  return constrained > 0 && constrained < machine ? constrained : machine;
}

/** Why a connection was closed by the guard; the label of the shed counter. */
export type ShedReason = "evicted-unused" | "evicted-receiving" | "evicted-idle" | "refused";

export interface ConnectionGuard {
  /** Connections open now (accepted, not yet closed). */
  readonly open: number;
  readonly max: number;
}

/** The TCP socket under a request's socket (the same socket without TLS). */
function tcpSocketOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

/** Whether a request announces a body still to come (HTTP/1.1 framing). */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers["content-length"];
  return (
    request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
  );
}

/**
 * Caps the server's open connections at `max`. At the cap a new connection
 * is still accepted and an older one goes, in this order: the oldest that
 * has not yet sent a request (a flood of idle or slow clients), the oldest
 * still receiving a request's body (a body sent a byte at a time; the API
 * server sends its bodies in milliseconds), then the one idle the longest
 * between requests; only when every connection is answering a request right
 * now is the new one refused. So a flood cannot lock out the API server,
 * whose connections send a whole request as soon as they open.
 */
export function guardConnections(
  server: Server,
  max: number,
  onShed: (reason: ShedReason) => void = () => {},
): ConnectionGuard {
  // Sets keep insertion order: the first entry is the oldest.
  const unused = new Set<Socket>();
  const receiving = new Set<Socket>();
  const idle = new Set<Socket>();
  const busy = new Set<Socket>();
  const open = () => unused.size + receiving.size + idle.size + busy.size;

  const evict = (from: Set<Socket>, reason: ShedReason): boolean => {
    const [victim] = from;
    if (!victim) return false;
    from.delete(victim);
    victim.destroy();
    onShed(reason);
    return true;
  };

  // Prepended: a connection to shed goes before TLS wraps it, and a request is
  // seen before any handler can answer it.
  server.prependListener("connection", (socket: Socket) => {
    if (
      open() >= max &&
      !evict(unused, "evicted-unused") &&
      !evict(receiving, "evicted-receiving") &&
      !evict(idle, "evicted-idle")
    ) {
      socket.destroy();
      onShed("refused");
      return;
    }
    unused.add(socket);
    socket.once("close", () => {
      unused.delete(socket);
      receiving.delete(socket);
      idle.delete(socket);
      busy.delete(socket);
    });
  });

  server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = tcpSocketOf(request.socket);
    if (socket.destroyed) return;
    unused.delete(socket);
    idle.delete(socket);
    if (hasBody(request)) {
      receiving.add(socket);
      // 'end' comes once the handler has read the whole body.
      request.once("end", () => {
        if (receiving.delete(socket)) busy.add(socket);
      });
    } else {
      busy.add(socket);
    }
    response.once("close", () => {
      // Answered before the body was read (413, 415): done with it either way.
      const inUse = busy.delete(socket) || receiving.delete(socket);
      if (inUse && !socket.destroyed) idle.add(socket);
    });
  });

  return {
    get open() {
      return open();
    },
    max,
  };
}
