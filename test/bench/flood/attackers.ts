// The hostile half of `npm run flood`, run as its own process so that its
// thousands of sockets never slow the admission client down. Each of
// `connections` slots keeps one connection of its kind open for as long as
// the server allows, and opens the next 200 ms after the server closes it:
//
//   tcp-idle      TCP connected, no TLS ClientHello ever sent
//   tls-silent    TLS handshake completed, then nothing
//   slow-headers  a request line, then one header byte a second
//   slow-body     complete headers for a 100,000-byte body, then one byte a second
//
// Prints its figures as one JSON object (AttackFigures) on standard output
// when done: per kind, and how late its own event loop ran, since a loop
// starved of CPU sees every close late and would blame the server for it.
//   tsx test/bench/flood/attackers.ts '{"port":8443,"connections":10000,"seconds":60}'
import { connect as netConnect, type Socket } from "node:net";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { connect as tlsConnect } from "node:tls";

export const ATTACK_KINDS = ["tcp-idle", "tls-silent", "slow-headers", "slow-body"] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export interface AttackConfig {
  port: number;
  connections: number;
  seconds: number;
  /** The first connections open over this long, not all in one instant. */
  rampSeconds?: number;
}

export interface KindFigures {
  kind: AttackKind;
  slots: number;
  opened: number;
  /** Connections the server closed (all others were still open at the end). */
  closedByServer: number;
  /** Most of this kind open at once. */
  peakOpen: number;
  /**
   * Lifetimes of the connections the server closed, milliseconds, as the
   * attacker sees them: from connect() to the close, so including any wait
   * for the server to accept (SYNs dropped while its accept queue is full).
   */
  lifetimeP50Ms: number;
  lifetimeMaxMs: number;
  /** From connect() to the TCP connection being established on this side. */
  connectP50Ms: number;
  connectMaxMs: number;
  /** From connect() to a completed TLS handshake (the server has accepted it); 0 for tcp-idle. */
  handshakeP50Ms: number;
  handshakeMaxMs: number;
  /** Age of the oldest connection still open when the attack ended. */
  oldestOpenMs: number;
  /** Bytes trickled to the server. */
  bytesTrickled: number;
}

export interface AttackFigures {
  kinds: KindFigures[];
  /** The attacker's own event-loop delay over the attack, milliseconds. */
  eventLoopDelay: { meanMs: number; p99Ms: number; maxMs: number };
}

const RECONNECT_MS = 200;
const HOST = "127.0.0.1";

interface Slot {
  kind: AttackKind;
  socket: Socket | undefined;
  openedAt: number;
  /** What the next tick writes: slow kinds only. */
  trickle: string;
}

function median(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function opening(kind: AttackKind): string {
  if (kind === "slow-headers") return "POST /validate HTTP/1.1\r\nHost: tollgate\r\nX-Slow: ";
  if (kind === "slow-body") {
    return "POST /validate HTTP/1.1\r\nHost: tollgate\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
  }
  return "";
}

interface Counting extends KindFigures {
  open: number;
  lifetimes: number[];
  connects: number[];
  handshakes: number[];
}

export async function attack(config: AttackConfig): Promise<AttackFigures> {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  const end = started + config.seconds * 1000;
  const ramp = (config.rampSeconds ?? 10) * 1000;
  const figures = new Map<AttackKind, Counting>(
    ATTACK_KINDS.map((kind) => [
      kind,
      {
        kind,
        slots: 0,
        opened: 0,
        closedByServer: 0,
        peakOpen: 0,
        lifetimeP50Ms: 0,
        lifetimeMaxMs: 0,
        connectP50Ms: 0,
        connectMaxMs: 0,
        handshakeP50Ms: 0,
        handshakeMaxMs: 0,
        oldestOpenMs: 0,
        bytesTrickled: 0,
        open: 0,
        lifetimes: [],
        connects: [],
        handshakes: [],
      },
    ]),
  );
  const slots: Slot[] = [];
  let stopping = false;

  const open = (slot: Slot) => {
    if (stopping || performance.now() > end) return;
    const f = figures.get(slot.kind) as Counting;
    const onOpen = () => {
      f.handshakes.push(performance.now() - slot.openedAt);
      const first = opening(slot.kind);
      if (first) socket.write(first);
      slot.trickle = slot.kind === "slow-body" ? " " : slot.kind === "slow-headers" ? "a" : "";
    };
    const socket =
      slot.kind === "tcp-idle"
        ? netConnect(config.port, HOST)
        : tlsConnect({ port: config.port, host: HOST, rejectUnauthorized: false }, onOpen);
    slot.socket = socket;
    slot.openedAt = performance.now();
    slot.trickle = "";
    f.opened++;
    f.open++;
    f.peakOpen = Math.max(f.peakOpen, f.open);
    socket.once("connect", () => f.connects.push(performance.now() - slot.openedAt));
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.once("close", () => {
      f.open--;
      slot.socket = undefined;
      if (stopping) return;
      f.closedByServer++;
      f.lifetimes.push(performance.now() - slot.openedAt);
      setTimeout(() => open(slot), RECONNECT_MS);
    });
  };

  // Kinds interleaved, so that every kind ramps up at the same pace.
  for (let i = 0; i < config.connections; i++) {
    const kind = ATTACK_KINDS[i % ATTACK_KINDS.length] as AttackKind;
    (figures.get(kind) as KindFigures).slots++;
    const slot: Slot = { kind, socket: undefined, openedAt: 0, trickle: "" };
    slots.push(slot);
    setTimeout(() => open(slot), (i * ramp) / config.connections);
  }

  // One ticker for every slow connection: a byte a second each.
  const ticker = setInterval(() => {
    for (const slot of slots) {
      if (!slot.socket || !slot.trickle || slot.socket.destroyed) continue;
      slot.socket.write(slot.trickle);
      (figures.get(slot.kind) as KindFigures).bytesTrickled++;
    }
  }, 1_000);

  await new Promise((done) => setTimeout(done, config.seconds * 1000));
  loopDelay.disable();
  stopping = true;
  clearInterval(ticker);
  const now = performance.now();
  for (const slot of slots) {
    if (!slot.socket) continue;
    const f = figures.get(slot.kind) as KindFigures;
    f.oldestOpenMs = Math.max(f.oldestOpenMs, now - slot.openedAt);
    slot.socket.destroy();
  }
  const kinds = [...figures.values()].map(
    ({ open: _open, lifetimes, connects, handshakes, ...f }): KindFigures => {
      const [life, connect, handshake] = [lifetimes, connects, handshakes].map((list) =>
        list.sort((a, b) => a - b),
      ) as [number[], number[], number[]];
      return {
        ...f,
        lifetimeP50Ms: median(life),
        lifetimeMaxMs: life.at(-1) ?? 0,
        connectP50Ms: median(connect),
        connectMaxMs: connect.at(-1) ?? 0,
        handshakeP50Ms: median(handshake),
        handshakeMaxMs: handshake.at(-1) ?? 0,
      };
    },
  );
  const ms = (ns: number) => ns / 1e6;
  return {
    kinds,
    eventLoopDelay: {
      meanMs: ms(loopDelay.mean),
      p99Ms: ms(loopDelay.percentile(99)),
      maxMs: ms(loopDelay.max),
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = JSON.parse(process.argv[2] ?? "{}") as AttackConfig;
  attack(config).then(
    (figures) => {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      process.exit(0);
    },
    (error: Error) => {
      process.stderr.write(`attackers: ${error.message}\n`);
      process.exit(2);
    },
  );
}
