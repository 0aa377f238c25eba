import type { Server, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { tcpSocketOf } from "./connections.js";

/**
 * A timer this late fired after the event loop was blocked, not after the
 * client had its time: Node runs due timers before it reads waiting input.
 */
export const STALL_MS = 1_000;

/**
 * Closes a connection whose TLS handshake is not done `timeoutMs` after it
 * was accepted, counting only time in which the server could read it.
 *
 * Node's own handshake timeout is a plain timer, and after the event loop was
 * blocked (a large request being judged on a starved machine) due timers run
 * before waiting input is read: a connection accepted just before a stall
 * longer than the timeout was closed although its ClientHello had arrived
 * (npm run fuzz at load 25-30 met such resets). So a timer that fires at
 * least STALL_MS late gives the connection the time the server lost, at most
 * one more `timeoutMs`, once; a client that sends nothing is still closed
 * after `timeoutMs` on a server that is not blocked, and after at most twice
 * that plus the stall on one that is.
 */
export function timeHandshakes(server: Server, timeoutMs: number): void {
  const timers = new Map<Socket, NodeJS.Timeout>();
  const arm = (socket: Socket, ms: number, extended: boolean) => {
    const due = performance.now() + ms;
    const timer = setTimeout(() => {
      const late = performance.now() - due;
      if (!extended && late >= STALL_MS) {
        arm(socket, Math.min(late, timeoutMs), true);
        return;
      }
      timers.delete(socket);
      socket.destroy();
    }, ms);
    timers.set(socket, timer);
  };
  const done = (socket: Socket) => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  server.on("connection", (socket: Socket) => {
    arm(socket, timeoutMs, false);
    socket.once("close", () => done(socket));
  });
  // Only a TLS server emits it; the TLS socket wraps the TCP one.
  server.on("secureConnection", (tls: Socket) => done(tcpSocketOf(tls)));
}
