import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server, Socket } from "node:net";
import { totalmem } from "node:os";
import { performance } from "node:perf_hooks";

/** A TLS handshake takes milliseconds; a client still shaking hands after this is gone. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** A connection that sends nothing for this long before or inside a request is closed. */
export const IDLE_TIMEOUT_MS = 10_000;
/** How often Node checks the request timeout; also its resolution. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * What one connection slot costs while a flood keeps the cap full (npm run
 * flood, docs/server.md#flooding): RSS grew by 111 KiB per slot at the cap of
 * 1,024 and 88 KiB at 512, most of it outside the V8 heap (OpenSSL and
 * Node's TLS buffers of connections past their handshake). A connection
 * left alone costs less, ~33 KiB, but the flood's are the ones that count.
 */
export const CONNECTION_BUDGET_BYTES = 112 * 1024;
/**
 * An idle replica as deploy/base runs it (the Kubernetes client loaded,
 * NODE_OPTIONS of the Deployment): 139 to 149 MiB of RSS measured.
 */
export const BASELINE_BYTES = 150 * 1024 * 1024;
/** Kept free of connections: request bodies being read, garbage not yet collected. */
export const RESERVE_FRACTION = 1 / 8;
export const MIN_CONNECTIONS = 64;
export const MAX_CONNECTIONS = 8_192;

/**
 * The connection cap for a memory limit: what the baseline and the reserve
 * leave, at CONNECTION_BUDGET_BYTES each (a 256 MiB pod gets 676), within
 * MIN_CONNECTIONS..MAX_CONNECTIONS.
 */
export function maxConnectionsFor(memoryLimitBytes: number): number {
  const spare = memoryLimitBytes * (1 - RESERVE_FRACTION) - BASELINE_BYTES;
  const fits = Math.floor(Math.max(0, spare) / CONNECTION_BUDGET_BYTES);
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

/** The TCP socket under a TLS or request's socket (the same socket without TLS). */
export function tcpSocketOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

/** Whether a request announces a body still to come (HTTP/1.1 framing). */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers["content-length"];
  return (
    request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
  );
}

/** How many of the oldest unused connections are searched for one that never sent a byte. */
const SILENT_SEARCH = 256;
/**
 * How long a new connection is spared as "silent": a real client's
 * ClientHello follows its TCP handshake within milliseconds, but a client
 * starved of CPU may send it later than the server's next turns. With only
 * the turns below, npm run flood still lost 19 of 1,587 new-connection
 * admissions so, each closed unread within 11 ms of its accept.
 */
export const SILENT_AFTER_MS = 1_000;
/**
 * Turns of the event loop a new connection is spared as "silent" for. A
 * connection is accepted in one poll phase and first read in the next, so its
 * `bytesRead` says nothing until then; and in that next phase the listener's
 * next batch of accepts can come before the read. So it counts as silent only
 * once the loop iteration after the one it was accepted in has ended.
 */
const TURNS_TO_FIRST_READ = 2;

/**
 * Caps the server's open connections at `max`. At the cap a new connection
 * is still accepted and an older one goes, in this order: one that has not
 * yet sent a request (a flood of idle or slow clients), the oldest still
 * receiving a request's body (a body sent a byte at a time; the API server
 * sends its bodies in milliseconds), then the one idle the longest between
 * requests; only when every connection is answering a request right now is
 * the new one refused. So a flood cannot lock out the API server, whose
 * connections send a whole request as soon as they open.
 *
 * Among those without a request, the one to go is the oldest that has sent
 * no byte at all (not even a TLS ClientHello) although the server has had a
 * turn to read it, else the oldest whose TLS handshake is done, else the
 * oldest still in its handshake. A new client still shaking hands is what a
 * real one looks like for its first milliseconds; under a flood of thousands
 * of connections a second, going strictly by age closed such a client before
 * its request arrived, and taking "nothing read yet" for silence closed it
 * before its ClientHello was read.
 */
export function guardConnections(
  server: Server,
  max: number,
  onShed: (reason: ShedReason) => void = () => {},
  { silentAfterMs = SILENT_AFTER_MS }: { silentAfterMs?: number } = {},
): ConnectionGuard {
  // Sets and maps keep insertion order: the first entry is the oldest.
  // `unused` holds connections still in their TLS handshake (or, without TLS,
  // before their first request), each with the accept turn it came in and
  // when; `secured` those past it with no request yet.
  const unused = new Map<Socket, { turn: number; at: number }>();
  const secured = new Set<Socket>();
  const receiving = new Set<Socket>();
  const idle = new Set<Socket>();
  const busy = new Set<Socket>();
  const open = () => unused.size + secured.size + receiving.size + idle.size + busy.size;

  // Turns of the event loop, counted while connections come: the connections
  // accepted in one poll phase share one, and the count moves on at the end
  // of that loop iteration and of the next TURNS_TO_FIRST_READ - 1.
  let turn = 0;
  let turnsToCount = 0;
  const endTurn = () => {
    turn++;
    if (--turnsToCount > 0) setImmediate(endTurn);
  };

  /** Closes `victim` (by default the oldest in `from`); false when there is none. */
  const evict = (
    from: Set<Socket> | Map<Socket, unknown>,
    reason: ShedReason,
    victim?: Socket,
  ): boolean => {
    const [oldest] = from.keys();
    victim ??= oldest;
    if (!victim) return false;
    from.delete(victim);
    victim.destroy();
    onShed(reason);
    return true;
  };
  /**
   * The oldest unused connection that has sent nothing although the server
   * could have read it and the client could have sent, among the first
   * SILENT_SEARCH. One accepted less than TURNS_TO_FIRST_READ turns or
   * `silentAfterMs` ago is not silent but unread: a real client's ClientHello
   * is in the kernel's buffer when it is accepted, or on its way, and closing
   * it then resets it (npm run flood lost 68 of 1,409 new-connection
   * admissions so, each closed unread within 5 ms of its accept).
   */
  const silent = (): Socket | undefined => {
    let searched = 0;
    const now = performance.now();
    for (const [socket, accepted] of unused) {
      if (turn - accepted.turn < TURNS_TO_FIRST_READ || now - accepted.at < silentAfterMs)
        return undefined;
      if (socket.bytesRead === 0) return socket;
      if (++searched >= SILENT_SEARCH) return undefined;
    }
    return undefined;
  };
  const evictUnused = () => {
    const quiet = silent();
    if (quiet) return evict(unused, "evicted-unused", quiet);
    return evict(secured, "evicted-unused") || evict(unused, "evicted-unused");
  };

  // Prepended: a connection to shed goes before TLS wraps it, and a request is
  // seen before any handler can answer it.
  server.prependListener("connection", (socket: Socket) => {
    if (
      open() >= max &&
      !evictUnused() &&
      !evict(receiving, "evicted-receiving") &&
      !evict(idle, "evicted-idle")
    ) {
      socket.destroy();
      onShed("refused");
      return;
    }
    unused.set(socket, { turn, at: performance.now() });
    if (turnsToCount === 0) setImmediate(endTurn);
    turnsToCount = TURNS_TO_FIRST_READ;
    socket.once("close", () => {
      unused.delete(socket);
      secured.delete(socket);
      receiving.delete(socket);
      idle.delete(socket);
      busy.delete(socket);
    });
  });

  // Only a TLS server emits it; the TLS socket wraps the TCP one.
  server.on("secureConnection", (tls: Socket) => {
    const socket = tcpSocketOf(tls);
    if (unused.delete(socket)) secured.add(socket);
  });

  server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = tcpSocketOf(request.socket);
    if (socket.destroyed) return;
    unused.delete(socket);
    secured.delete(socket);
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
