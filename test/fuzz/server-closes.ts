// Loaded into the fuzzed `tollgate serve` (`node --import`) by npm run fuzz:
// the server's own account of the connections it ended and why, so that a
// connection error the fuzzer sees can be told apart from the fuzzer's own
// trouble. Listens only (diagnostics channel, and listeners whose presence
// changes nothing: Fastify already handles clientError, Node destroys a
// timed-out socket whatever else listens on it).
//
// Written as JSON (ServerCloses) to $TOLLGATE_FUZZ_CLOSES every second and at exit.
import { subscribe } from "node:diagnostics_channel";
import { renameSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type TLSSocket, Server as TlsServer } from "node:tls";

export interface CloseEvent {
  /** Date.now() when it happened, to line up with the fuzzer's failures. */
  at: number;
  cause: string;
}

export interface ServerCloses {
  accepted: number;
  /** Counts by cause: tls:<code>, http:<code>, idle-timeout:<what the socket was doing>. */
  causes: Record<string, number>;
  /** The first KEPT of them, in order. */
  events: CloseEvent[];
  /** The server's event-loop delay, milliseconds: a stall lets timers fire before waiting data is read. */
  eventLoopDelay: { meanMs: number; p99Ms: number; maxMs: number };
}

const KEPT = 200;
const closes: ServerCloses = {
  accepted: 0,
  causes: {},
  events: [],
  eventLoopDelay: { meanMs: 0, p99Ms: 0, maxMs: 0 },
};
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const watched = new WeakSet<TlsServer>();

function record(cause: string): void {
  closes.causes[cause] = (closes.causes[cause] ?? 0) + 1;
  if (closes.events.length < KEPT) closes.events.push({ at: Date.now(), cause });
}

/** What a socket was doing when its idle timeout fired. */
function activity(socket: TLSSocket): string {
  const pending = (socket as TLSSocket & { _httpMessage?: unknown })._httpMessage;
  const incoming = (socket as TLSSocket & { parser?: { incoming?: { complete: boolean } } }).parser
    ?.incoming;
  if (pending) return "answer-pending";
  if (incoming && !incoming.complete) return "request-incomplete";
  return "between-requests";
}

subscribe("net.server.socket", (message) => {
  const socket = (message as { socket: Socket }).socket;
  const server = (socket as Socket & { server?: unknown }).server;
  if (!(server instanceof TlsServer)) return;
  closes.accepted++;
  if (watched.has(server)) return;
  watched.add(server);
  server.on("tlsClientError", (error: NodeJS.ErrnoException) =>
    record(`tls:${error.code ?? error.message}`),
  );
  server.on("clientError", (error: NodeJS.ErrnoException) =>
    record(`http:${error.code ?? error.message}`),
  );
  server.on("secureConnection", (tls: TLSSocket) => {
    tls.on("timeout", () => record(`idle-timeout:${activity(tls)}`));
  });
});

const file = process.env.TOLLGATE_FUZZ_CLOSES;
if (file) {
  const write = () => {
    const ms = (ns: number) => ns / 1e6;
    closes.eventLoopDelay = {
      meanMs: ms(loopDelay.mean),
      p99Ms: ms(loopDelay.percentile(99)),
      maxMs: ms(loopDelay.max),
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(closes));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 1_000).unref();
  process.on("exit", write);
}
