// Loaded into the flooded `tollgate serve` (`node --import`) by npm run flood:
// the server's own account of how long each webhook connection lived, from
// the moment it was accepted to the moment it closed, by how far it got.
// The attacker's clock cannot give that: it starts at connect(), and a SYN
// the kernel dropped while the accept queue was full is sent again 1, 3, 7,
// 15, 31 s later, all before the server has seen the connection.
//
// Each stage a connection reaches starts the server's timer for it (the
// handshake, then silence or the request), so the time a connection spent in
// its last stage is what that stage's timeout bounds; the whole lifetime can
// be their sum.
//
// Node's diagnostics channels report accepted sockets and HTTP requests and
// answers without any change to the server. The figures (ServerFigures) are
// written as JSON to $TOLLGATE_FLOOD_LIFETIMES every second and at exit.
import { subscribe } from "node:diagnostics_channel";
import { renameSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type TLSSocket, Server as TlsServer } from "node:tls";

/**
 * How far a connection got before it closed:
 *   handshake   accepted, TLS never completed (or shed at once by the cap)
 *   no-request  TLS completed, no complete request header ever arrived
 *   unanswered  a request began, but no answer was ever sent on it
 *   answered    at least one answer was sent (the admission client)
 */
export const STAGES = ["handshake", "no-request", "unanswered", "answered"] as const;
export type Stage = (typeof STAGES)[number];

export interface StageFigures {
  stage: Stage;
  closed: number;
  /** Lifetimes (accept to close) in whole seconds: closedBySecond[s] of them lived [s, s+1). */
  closedBySecond: number[];
  maxMs: number;
  /** Longest time a closed connection spent in this, its last stage. */
  maxInStageMs: number;
  open: number;
  oldestOpenMs: number;
}

/**
 * What became of the admission client's connections (told apart by the
 * loopback address they come from, $TOLLGATE_FLOOD_CLIENTS): how many the
 * server accepted and how many it closed before their TLS handshake was done,
 * split by whether it had read a byte of them. A connection closed unread
 * within milliseconds of its accept was shed by the connection cap before its
 * ClientHello, already in the kernel's buffer, could be read: the client sees
 * a reset.
 */
export interface ClientFigures {
  client: string;
  accepted: number;
  closedInHandshake: number;
  closedUnread: number;
  /** Longest life of a connection closed unread. */
  closedUnreadMaxMs: number;
}

export interface ServerFigures {
  stages: StageFigures[];
  clients: ClientFigures[];
  /** The server's event-loop delay since it started, milliseconds: how late its timers could fire. */
  eventLoopDelay: { meanMs: number; p99Ms: number; maxMs: number };
}

const SECONDS_KEPT = 300;

interface Tracked {
  acceptedAt: number;
  client: ClientFigures | undefined;
  stage: Stage;
  stageAt: number;
}

const tracked = new Map<Socket, Tracked>();
const figures = new Map<Stage, StageFigures>(
  STAGES.map((stage) => [
    stage,
    {
      stage,
      closed: 0,
      closedBySecond: new Array<number>(SECONDS_KEPT + 1).fill(0),
      maxMs: 0,
      maxInStageMs: 0,
      open: 0,
      oldestOpenMs: 0,
    },
  ]),
);
const clients = new Map<string, ClientFigures>(
  Object.entries(
    JSON.parse(process.env.TOLLGATE_FLOOD_CLIENTS ?? "{}") as Record<string, string>,
  ).map(([client, address]) => [
    address,
    { client, accepted: 0, closedInHandshake: 0, closedUnread: 0, closedUnreadMaxMs: 0 },
  ]),
);
const watchedServers = new WeakSet<TlsServer>();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function rawOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

function advance(socket: Socket, stage: Stage): void {
  const entry = tracked.get(rawOf(socket));
  if (entry && STAGES.indexOf(stage) > STAGES.indexOf(entry.stage)) {
    entry.stage = stage;
    entry.stageAt = performance.now();
  }
}

subscribe("net.server.socket", (message) => {
  const socket = (message as { socket: Socket }).socket;
  const server = (socket as Socket & { server?: unknown }).server;
  // The webhook listener only, not the plain-HTTP metrics listener.
  if (!(server instanceof TlsServer)) return;
  if (!watchedServers.has(server)) {
    watchedServers.add(server);
    server.on("secureConnection", (tls: TLSSocket) => advance(tls, "no-request"));
  }
  const now = performance.now();
  const client = clients.get(socket.remoteAddress?.replace(/^::ffff:/, "") ?? "");
  if (client) client.accepted++;
  tracked.set(socket, { acceptedAt: now, client, stage: "handshake", stageAt: now });
  socket.once("close", () => {
    const entry = tracked.get(socket);
    if (!entry) return;
    tracked.delete(socket);
    const f = figures.get(entry.stage) as StageFigures;
    const now = performance.now();
    const ms = now - entry.acceptedAt;
    if (entry.client && entry.stage === "handshake") {
      entry.client.closedInHandshake++;
      if (socket.bytesRead === 0) {
        entry.client.closedUnread++;
        entry.client.closedUnreadMaxMs = Math.max(entry.client.closedUnreadMaxMs, ms);
      }
    }
    f.closed++;
    f.maxMs = Math.max(f.maxMs, ms);
    f.maxInStageMs = Math.max(f.maxInStageMs, now - entry.stageAt);
    const second = Math.min(SECONDS_KEPT, Math.floor(ms / 1000));
    f.closedBySecond[second] = (f.closedBySecond[second] ?? 0) + 1;
  });
});
subscribe("http.server.request.start", (message) =>
  advance((message as { socket: Socket }).socket, "unanswered"),
);
subscribe("http.server.response.finish", (message) =>
  advance((message as { socket: Socket }).socket, "answered"),
);

function snapshot(): ServerFigures {
  const now = performance.now();
  for (const f of figures.values()) {
    f.open = 0;
    f.oldestOpenMs = 0;
  }
  for (const entry of tracked.values()) {
    const f = figures.get(entry.stage) as StageFigures;
    f.open++;
    f.oldestOpenMs = Math.max(f.oldestOpenMs, now - entry.acceptedAt);
  }
  const ms = (ns: number) => ns / 1e6;
  return {
    stages: [...figures.values()],
    clients: [...clients.values()],
    eventLoopDelay: {
      meanMs: ms(loopDelay.mean),
      p99Ms: ms(loopDelay.percentile(99)),
      maxMs: ms(loopDelay.max),
    },
  };
}

const file = process.env.TOLLGATE_FLOOD_LIFETIMES;
if (file) {
  const write = () => {
    writeFileSync(`${file}.tmp`, JSON.stringify(snapshot()));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 1_000).unref();
  process.on("exit", write);
}
