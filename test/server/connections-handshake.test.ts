// The TLS handshake timeout counts only time in which the server could read.
// The client runs in its own process, so that it sends its ClientHello while
// this process (the server) is blocked, as a server judging a large request
// on a starved machine is.
import type { Socket } from "node:net";
import { connect as netConnect } from "node:net";
import { createServer, type Server } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CertificateBundle, generateCertificates } from "../../src/certificates/generate.js";
import { STALL_MS, timeHandshakes } from "../../src/server/connections-handshake.js";
import { outputOfChild } from "./support.js";

// Long enough that a child process slow to start on a busy machine still sends
// its ClientHello within the time the server gives back after the block.
const TIMEOUT_MS = 1_000;
/** Longer than the timeout, and late enough to count as a stall. */
const BLOCK_MS = TIMEOUT_MS + 2 * STALL_MS;

let bundle: CertificateBundle;
beforeAll(async () => {
  bundle = await generateCertificates({ hosts: ["127.0.0.1"], validDays: 1 });
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((done) => server.close(() => done()))),
  );
});

/** A TLS server timed by timeHandshakes only (Node's own timeout far away). */
async function listening(onAccept: (socket: Socket) => void = () => {}) {
  const server = createServer({ key: bundle.key, cert: bundle.cert, handshakeTimeout: 600_000 });
  servers.push(server);
  server.on("connection", onAccept);
  timeHandshakes(server, TIMEOUT_MS);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  return (server.address() as { port: number }).port;
}

/** Blocks this process's event loop, as a long synchronous piece of work does. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: nothing else may run.
  }
}

/** A TLS handshake from a child process; resolves with what it printed. */
function handshakeFromChild(port: number): Promise<string> {
  const script = `
    const s = require("node:tls").connect({ port: ${port}, host: "127.0.0.1", rejectUnauthorized: false }, () => {
      console.log("secure"); s.destroy();
    });
    s.on("error", (e) => console.log("error " + (e.code || e.message)));
    s.on("close", () => process.exit(0));
  `;
  return outputOfChild(script);
}

describe("TLS handshake timeout", () => {
  it("does not close a connection whose ClientHello arrived while the server was blocked", async () => {
    let blocked = 0;
    const port = await listening(() => {
      // Accepted, then blocked past the timeout before its ClientHello is read.
      setImmediate(() => {
        block(BLOCK_MS);
        blocked++;
      });
    });
    expect(await handshakeFromChild(port)).toBe("secure");
    expect(blocked).toBe(1);
  });

  it("still closes a connection that sends nothing", async () => {
    const port = await listening();
    const socket = netConnect(port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise<void>((done) => socket.once("close", () => done()));
    expect(socket.bytesRead).toBe(0);
  });

  it("closes a silent connection even if the server was blocked meanwhile", async () => {
    let blocked = 0;
    const port = await listening(() => {
      setImmediate(() => {
        block(BLOCK_MS);
        blocked++;
      });
    });
    const socket = netConnect(port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise<void>((done) => socket.once("close", () => done()));
    expect(blocked).toBe(1);
  });
});
