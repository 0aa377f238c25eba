// What a hostile or careless client meets on a real HTTPS listener: the TLS
// 1.2 cipher list (checked with the openssl client), the connection cap, the
// handshake and idle timeouts, and a drain that resets nothing.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server/main.js";
import {
  eventually,
  httpsCall,
  LogCapture,
  privilegedPod,
  reviewOf,
  sleep,
  validatePost,
} from "./support.js";

const running: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.shutdown("test done");
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), "tollgate-limits-"));
  dirs.push(stateDir);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    stateDir,
    signals: false,
    drainDelayMs: 0,
    namespaces: "none",
    logger: new LogCapture().logger,
    ...options,
  });
  running.push(server);
  return { server, ca: readFileSync(server.certificate.caFile ?? "", "utf8") };
}

/** `openssl s_client` offering only `cipher` over TLS 1.2; resolves with its exit code and output. */
function opensslOffering(port: number, cipher: string) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-cipher", cipher],
      { stdio: ["pipe", "pipe", "pipe"], timeout: 20_000 },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.on("close", (code) => resolve({ code, out }));
    child.stdin.end("Q\n");
  });
}

/** Resolves once the server closes `socket`. */
const closed = (socket: Socket) => new Promise<void>((done) => socket.once("close", () => done()));

describe("TLS 1.2 ciphers", () => {
  it("refuses a client that offers only CBC, and agrees on ECDHE with AES-GCM or ChaCha20", async () => {
    const { server } = await serve();
    // Each offer names both key types: the development certificate's key decides which is used.
    const cbcAndOthers = [
      "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",
      "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384",
      "ECDHE-ECDSA-AES128-CCM8",
      "AES128-GCM-SHA256:AES256-GCM-SHA384",
    ];
    for (const offer of cbcAndOthers) {
      const { code, out } = await opensslOffering(server.port, offer);
      expect(code, `${offer}: ${out}`).not.toBe(0);
      expect(out).toMatch(/handshake failure|no cipher|alert/i);
    }
    const aead = [
      [
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
        /Cipher is ECDHE-(ECDSA|RSA)-AES128-GCM-SHA256/,
      ],
      [
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
        /Cipher is ECDHE-(ECDSA|RSA)-AES256-GCM-SHA384/,
      ],
      [
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
        /Cipher is ECDHE-(ECDSA|RSA)-CHACHA20-POLY1305/,
      ],
    ] as const;
    for (const [offer, agreed] of aead) {
      const { code, out } = await opensslOffering(server.port, offer);
      expect(code, out).toBe(0);
      expect(out).toMatch(agreed);
    }
  });
});

describe("connection cap", () => {
  it("sheds the oldest silent connection, so a real request still gets through", async () => {
    const { server, ca } = await serve({ maxConnections: 4 });
    const silent = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<Socket>((done) => {
            const socket = netConnect(server.port, "127.0.0.1", () => done(socket));
            socket.on("error", () => {});
          }),
      ),
    );
    await sleep(100);
    const firstGone = closed(silent[0] as Socket);
    const answer = await httpsCall({
      port: server.port,
      path: "/validate",
      ca,
      body: JSON.stringify(reviewOf(privilegedPod(), { uid: "through" })),
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).response.uid).toBe("through");
    await firstGone;
    expect(silent.filter((s) => s.destroyed || s.readyState === "closed").length).toBeGreaterThan(
      0,
    );
    const metrics = await httpsCall({ port: server.port, path: "/metrics", ca });
    expect(metrics.body).toMatch(
      /tollgate_connections_shed_total\{reason="evicted-unused"\} [1-9]/,
    );
    for (const socket of silent) socket.destroy();
  });
});

describe("timeouts", () => {
  it("closes a TCP connection that never starts TLS, and a TLS one that never sends a request", async () => {
    const { server, ca } = await serve();
    const raw = netConnect(server.port, "127.0.0.1");
    raw.on("error", () => {});
    const tls = tlsConnect({ host: "127.0.0.1", port: server.port, ca });
    tls.on("error", () => {});
    await new Promise<void>((done) => tls.once("secureConnect", () => done()));
    // Neither sends a byte; both must be closed by the server, not by this test.
    await Promise.all([closed(raw), closed(tls)]);
    expect(raw.destroyed && tls.destroyed).toBe(true);
  });

  it("answers 408 to headers or a body trickling in past --request-timeout, and closes", async () => {
    const { server, ca } = await serve({ requestTimeoutMs: 1_000 });
    const starts = {
      headers: "POST /validate HTTP/1.1\r\nHost: tollgate\r\nX-Slow: ",
      body: "POST /validate HTTP/1.1\r\nHost: tollgate\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
    };
    const answers = await Promise.all(
      Object.values(starts).map(async (start) => {
        const socket = tlsConnect({ host: "127.0.0.1", port: server.port, ca });
        socket.on("error", () => {});
        await new Promise<void>((done) => socket.once("secureConnect", () => done()));
        socket.write(start);
        // A byte every 200 ms: never idle, never done. Only the request
        // timeout can end it (before the fix, the body kind ran on forever).
        const trickle = setInterval(() => socket.write(" "), 200);
        let answer = "";
        socket.on("data", (chunk: Buffer) => {
          answer += chunk.toString("utf8");
        });
        await closed(socket);
        clearInterval(trickle);
        return answer;
      }),
    );
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe("drain", () => {
  /**
   * Keeps `workers` keep-alive connections busy until the listener refuses
   * them; counts answers, errors by code, and connections the server accepted.
   */
  async function load(port: number, ca: string, workers: number, stop: () => boolean) {
    const agent = new Agent({ keepAlive: true, maxSockets: workers, ca });
    const body = JSON.stringify(reviewOf(privilegedPod()));
    const errors: Record<string, number> = {};
    let answers = 0;
    let closing = 0;
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const req = validatePost(port, agent, body, (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode === 200) answers++;
            if (res.headers.connection === "close") closing++;
            resolve();
          });
        });
        req.on("error", reject);
        req.end(body);
      });
    const worker = async () => {
      while (!stop()) {
        try {
          await one();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          errors[code] = (errors[code] ?? 0) + 1;
          if (code === "ECONNREFUSED") return;
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
    agent.destroy();
    return { answers, closing, errors };
  }

  it.each([0, 300])(
    "with --drain-delay %i: no reset, and no new connection while draining",
    async (drainDelayMs) => {
      const { server, ca } = await serve({ drainDelayMs });
      let connections = 0;
      server.app.server.on("secureConnection", () => connections++);
      let done = false;
      const loading = load(server.port, ca, 8, () => done);
      await eventually(() => (connections === 8 ? true : undefined), 20_000, "8 connections");
      const before = connections;
      const stopped = server.shutdown("test");
      running.splice(running.indexOf(server), 1);
      await sleep(drainDelayMs / 2);
      // During the drain delay the same connections keep serving.
      expect(connections).toBe(before);
      await stopped;
      done = true;
      const result = await loading;
      expect(result.answers).toBeGreaterThan(8);
      expect(result.errors.ECONNRESET ?? 0).toBe(0);
      expect(result.errors["socket hang up"] ?? 0).toBe(0);
      expect(Object.keys(result.errors).filter((code) => code !== "ECONNREFUSED")).toEqual([]);
      // Each connection ended after an answer that said so.
      expect(result.closing).toBeLessThanOrEqual(8);
    },
  );
});
