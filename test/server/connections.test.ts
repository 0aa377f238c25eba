// The connection cap's order of eviction, on a plain HTTP listener (the
// guard works on TCP sockets, below TLS): unused, then still receiving a
// body, then idle between requests; busy connections are never cut.
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import {
  BASELINE_BYTES,
  CONNECTION_BUDGET_BYTES,
  guardConnections,
  MAX_CONNECTIONS,
  MIN_CONNECTIONS,
  maxConnectionsFor,
  RESERVE_FRACTION,
  type ShedReason,
} from "../../src/server/connections.js";
import { outputOfChild } from "./support.js";

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    ),
  );
});

/**
 * A listener capped at `max` (a connection that sent nothing counts as
 * silent after `silentAfterMs`, and its turns) whose handler reads the whole body and answers
 * `ok`, except for paths starting /hold, which it reads and never answers.
 */
async function capped(max: number, silentAfterMs = 0) {
  const shed: ShedReason[] = [];
  const started: string[] = [];
  const bodiesRead: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    started.push(request.url ?? "");
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      bodiesRead.push(request.url ?? "");
      if (!request.url?.startsWith("/hold")) response.end(`ok ${body.length}`);
    });
  });
  servers.push(server);
  const accepted: Socket[] = [];
  server.on("connection", (socket: Socket) => {
    accepted.push(socket);
  });
  guardConnections(server, max, (reason) => shed.push(reason), { silentAfterMs });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const port = (server.address() as { port: number }).port;
  return { port, shed, started, bodiesRead, accepted: () => accepted.length, onServer: accepted };
}

/** A connected socket that collects what the server sends and notes its close. */
async function open(port: number) {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  const closed = new Promise<void>((done) => socket.once("close", () => done()));
  await new Promise<void>((done) => socket.once("connect", () => done()));
  return { socket, closed, received: () => received };
}

function post(path: string, length: number, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${length}\r\n\r\n${body}`;
}

/** Lets this process's event loop go round `n` times. */
async function loopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((done) => setImmediate(done));
}

/** Polls `check` every 10 ms, at most 500 times (no clock is asserted). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error(`never happened: ${what}`);
}

describe("connection cap: who goes first", () => {
  it("a connection still receiving a body goes before an idle keep-alive one", async () => {
    const { port, shed, started } = await capped(2);
    const idle = await open(port);
    idle.socket.write(post("/a", 2, "{}"));
    await until(() => idle.received().includes("ok 2"), "the keep-alive answer");
    // Headers for 100 bytes, then 1: a body sent a byte at a time.
    const slow = await open(port);
    slow.socket.write(post("/slow", 100, "{"));
    await until(() => started.includes("/slow"), "the slow request's headers seen");

    const newcomer = await open(port);
    await Promise.race([slow.closed, idle.closed]);
    expect(shed).toEqual(["evicted-receiving"]);
    // The idle connection was kept and serves its next request; so does the newcomer.
    idle.socket.write(post("/b", 3, "123"));
    newcomer.socket.write(post("/c", 1, "x"));
    await until(() => idle.received().includes("ok 3"), "the idle connection's second answer");
    await until(() => newcomer.received().includes("ok 1"), "the newcomer's answer");
  });

  it("once its body is read, a request being answered is busy: the idle one goes instead", async () => {
    const { port, shed, bodiesRead } = await capped(2);
    const idle = await open(port);
    idle.socket.write(post("/a", 2, "{}"));
    await until(() => idle.received().includes("ok 2"), "the keep-alive answer");
    const held = await open(port);
    held.socket.write(post("/hold", 2, "{}"));
    await until(() => bodiesRead.includes("/hold"), "the held body read");

    await open(port);
    await Promise.race([idle.closed, held.closed]);
    expect(shed).toEqual(["evicted-idle"]);
    expect(held.socket.destroyed).toBe(false);
  });

  it.each([
    { silentAfterMs: 0, goes: "silent" },
    { silentAfterMs: 600_000, goes: "begun" },
  ] as const)(
    "among those without a request, one that has sent no byte goes before an older one that has once silentAfterMs ($silentAfterMs) has passed: the $goes one goes",
    async ({ silentAfterMs, goes }) => {
      const { port, shed, accepted, onServer } = await capped(2, silentAfterMs);
      // Older, and has begun: what a client still in its TLS handshake looks like.
      const begun = await open(port);
      begun.socket.write("POST /a HTTP/1.1\r\nHo");
      const silent = await open(port);
      await until(() => accepted() === 2, "both accepted");
      await until(() => (onServer[0]?.bytesRead ?? 0) > 0, "the first bytes read by the server");
      // Not just unread: the server has had its turns to read it.
      await loopTurns(2);

      await open(port);
      await Promise.race([silent.closed, begun.closed]);
      expect(shed).toEqual(["evicted-unused"]);
      const [gone, kept] = goes === "silent" ? [silent, begun] : [begun, silent];
      expect(gone.socket.readyState).not.toBe("open");
      expect(kept.socket.destroyed).toBe(false);
    },
  );

  it("a connection that has sent nothing goes before one receiving a body", async () => {
    const { port, shed, started, accepted } = await capped(2);
    const slow = await open(port);
    slow.socket.write(post("/slow", 100, "{"));
    await until(() => started.includes("/slow"), "the slow request's headers seen");
    const silent = await open(port);
    await until(() => accepted() === 2, "the silent connection accepted");

    await open(port);
    await Promise.race([silent.closed, slow.closed]);
    expect(shed).toEqual(["evicted-unused"]);
    expect(slow.socket.destroyed).toBe(false);
  });
});

describe("connection cap sized to the memory limit", () => {
  it("leaves the baseline and the reserve free at every limit, and grows with it", () => {
    const MiB = 2 ** 20;
    let previous = 0;
    for (let limit = 128 * MiB; limit <= 8192 * MiB; limit += 64 * MiB) {
      const max = maxConnectionsFor(limit);
      expect(max).toBeGreaterThanOrEqual(Math.max(previous, MIN_CONNECTIONS));
      expect(max).toBeLessThanOrEqual(MAX_CONNECTIONS);
      if (max > MIN_CONNECTIONS) {
        expect(BASELINE_BYTES + max * CONNECTION_BUDGET_BYTES).toBeLessThanOrEqual(
          limit * (1 - RESERVE_FRACTION),
        );
      }
      previous = max;
    }
  });
});

/**
 * Blocks this process's event loop until `file` exists: connections made
 * meanwhile wait in the kernel's accept queue and are accepted in one batch
 * when the loop runs again, their first bytes already in the kernel's buffer.
 */
function blockUntil(file: string): void {
  // A ceiling against a child that never writes it; nothing is timed.
  const ceiling = performance.now() + 60_000;
  while (!existsSync(file)) {
    if (performance.now() > ceiling) throw new Error(`${file} never appeared`);
  }
}

/**
 * From a child process (this one is blocked meanwhile): a client that sends
 * a whole request as soon as it is connected, then a silent connection.
 * Resolves with what became of the client's request.
 */
function clientThenSilent(port: number, marker: string): Promise<string> {
  const script = `
    const net = require("node:net");
    const client = net.connect(${port}, "127.0.0.1", () => {
      client.write(${JSON.stringify(post("/client", 2, "{}"))});
      const silent = net.connect(${port}, "127.0.0.1", () => require("node:fs").writeFileSync(${JSON.stringify(marker)}, ""));
      silent.on("error", () => {});
    });
    let received = "";
    client.setEncoding("utf8");
    client.on("data", (chunk) => {
      received += chunk;
      if (received.includes("ok 2")) { console.log("answered"); process.exit(0); }
    });
    client.on("error", (e) => { console.log("error " + (e.code || e.message)); process.exit(0); });
    client.on("close", () => { console.log("closed"); process.exit(0); });
  `;
  return outputOfChild(script);
}

describe("connection cap: connections not read yet", () => {
  it("a connection accepted in the same batch as the one over the cap is not taken for silent", async () => {
    const { port, shed, accepted, onServer } = await capped(2);
    // Older, and has begun: a flood connection past its first bytes.
    const begun = await open(port);
    begun.socket.write("POST /a HTTP/1.1\r\nHo");
    await until(() => accepted() === 1, "the first connection accepted");
    await until(() => (onServer[0]?.bytesRead ?? 0) > 0, "its first bytes read by the server");

    const marker = join(mkdtempSync(join(tmpdir(), "tollgate-cap-")), "connected");
    const client = clientThenSilent(port, marker);
    // The client's request and the silent connection are accepted in one
    // batch: the silent one is over the cap before the client could be read.
    blockUntil(marker);
    expect(await client).toBe("answered");
    await begun.closed;
    expect(shed).toEqual(["evicted-unused"]);
    expect(accepted()).toBe(3);
  });
});
