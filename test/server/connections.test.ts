// The connection cap's order of eviction, on a plain HTTP listener (the
// guard works on TCP sockets, below TLS): unused, then still receiving a
// body, then idle between requests; busy connections are never cut.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
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
 * A listener capped at `max` whose handler reads the whole body and answers
 * `ok`, except for paths starting /hold, which it reads and never answers.
 */
async function capped(max: number) {
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
  guardConnections(server, max, (reason) => shed.push(reason));
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

  it("among those without a request, one that has sent no byte goes before an older one that has", async () => {
    const { port, shed, accepted, onServer } = await capped(2);
    // Older, and has begun: what a client still in its TLS handshake looks like.
    const begun = await open(port);
    begun.socket.write("POST /a HTTP/1.1\r\nHo");
    const silent = await open(port);
    await until(() => accepted() === 2, "both accepted");
    await until(() => (onServer[0]?.bytesRead ?? 0) > 0, "the first bytes read by the server");

    await open(port);
    await Promise.race([silent.closed, begun.closed]);
    expect(shed).toEqual(["evicted-unused"]);
    expect(silent.socket.readyState).not.toBe("open");
    expect(begun.socket.destroyed).toBe(false);
  });

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
