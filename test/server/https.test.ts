// Through a real HTTPS listener on 127.0.0.1: the TLS floor, plain HTTP,
// certificate rotation under load and policy set reloads.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpsRequest } from "node:https";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CertificateBundle, generateCertificates } from "../../src/certificates/generate.js";
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

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-https-"));
  dirs.push(dir);
  return dir;
}

async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const logs = new LogCapture();
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    stateDir: tempDir(),
    signals: false,
    drainDelayMs: 0,
    namespaces: "none",
    watchDebounceMs: 50,
    logger: logs.logger,
    ...options,
  });
  running.push(server);
  const ca = server.certificate.caFile ? readFileSync(server.certificate.caFile, "utf8") : "";
  return { server, logs, ca };
}

const privilegedReview = () => JSON.stringify(reviewOf(privilegedPod()));

function handshake(
  port: number,
  ca: string,
  options: { minVersion?: string; maxVersion?: string },
) {
  return new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      ca,
      servername: "localhost",
      // Allow the old protocol on the client side, so only the server can refuse it.
      ciphers: "DEFAULT@SECLEVEL=0",
      minVersion: options.minVersion as "TLSv1",
      maxVersion: options.maxVersion as "TLSv1.1",
    });
    socket.once("secureConnect", () => {
      const protocol = socket.getProtocol() ?? "";
      socket.end();
      resolve(protocol);
    });
    socket.once("error", reject);
  });
}

describe("the HTTPS listener", () => {
  it("serves a denial to a client that trusts the development CA", async () => {
    const { server, ca } = await serve();
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await httpsCall({
      port: server.port,
      path: "/validate",
      ca,
      body: privilegedReview(),
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).response.allowed).toBe(false);
    const health = await httpsCall({ port: server.port, path: "/healthz", ca, host: "localhost" });
    expect(health.status).toBe(200);
  });

  it("refuses TLS 1.1 and older, and speaks TLS 1.2 and 1.3", async () => {
    const { server, ca } = await serve();
    await expect(
      handshake(server.port, ca, { minVersion: "TLSv1", maxVersion: "TLSv1.1" }),
    ).rejects.toThrow();
    expect(await handshake(server.port, ca, { maxVersion: "TLSv1.2" })).toBe("TLSv1.2");
    expect(await handshake(server.port, ca, {})).toBe("TLSv1.3");
  });

  it("gives plain HTTP no HTTP answer", async () => {
    const { server } = await serve();
    const received = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(server.port, "127.0.0.1");
      const chunks: Buffer[] = [];
      socket.setTimeout(3_000, () => socket.destroy());
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
      socket.on("error", (error: NodeJS.ErrnoException) =>
        error.code === "ECONNRESET"
          ? resolve(Buffer.concat(chunks).toString("latin1"))
          : reject(error),
      );
      socket.write(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
      );
    });
    expect(received).not.toMatch(/HTTP\/1/);
  });
});

describe("certificate rotation", () => {
  let next: CertificateBundle;
  let current: CertificateBundle;

  beforeAll(async () => {
    [current, next] = await Promise.all([
      generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 2 }),
      generateCertificates({ hosts: ["localhost", "127.0.0.1"], validDays: 2 }),
    ]);
  });

  it("swaps certificates under load without a single failed request", {
    timeout: 30_000,
  }, async () => {
    const dir = tempDir();
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    writeFileSync(certFile, current.cert);
    writeFileSync(keyFile, current.key);
    const { server, logs } = await serve({ certFile, keyFile });
    const trusted = [current.caCert, next.caCert];
    const oldPrint = new X509Certificate(current.cert).fingerprint256;
    const newPrint = new X509Certificate(next.cert).fingerprint256;

    // One keep-alive connection opened before the swap must keep working after it.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: current.caCert });
    const onKeptConnection = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          { host: "127.0.0.1", port: server.port, path: "/healthz", agent: keepAlive },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end();
      });
    expect(await onKeptConnection()).toBe(200);

    const results: { fingerprint: string; ok: boolean; error?: string }[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const reply = await httpsCall({
            port: server.port,
            path: "/validate",
            ca: trusted,
            body: privilegedReview(),
          });
          const ok = reply.status === 200 && JSON.parse(reply.body).response.allowed === false;
          results.push({ fingerprint: reply.fingerprint, ok });
        } catch (error) {
          results.push({ fingerprint: "", ok: false, error: (error as Error).message });
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);

    await eventually(() => (results.length >= 20 ? true : undefined), 30_000, "load");
    // Two separate writes, the way a careless rotation script would do it.
    writeFileSync(certFile, next.cert);
    await sleep(120);
    writeFileSync(keyFile, next.key);
    await eventually(
      () => (results.some((r) => r.fingerprint === newPrint) ? true : undefined),
      10_000,
      "the new certificate",
    );
    const afterSwap = results.length;
    await eventually(
      () => (results.length >= afterSwap + 20 ? true : undefined),
      10_000,
      "more load",
    );
    stop = true;
    await Promise.all(workers);

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results[0]?.fingerprint).toBe(oldPrint);
    expect(results.slice(afterSwap).every((r) => r.fingerprint === newPrint)).toBe(true);
    const fresh = await httpsCall({ port: server.port, path: "/healthz", ca: next.caCert });
    expect(fresh.fingerprint).toBe(newPrint);
    expect(await onKeptConnection()).toBe(200);
    keepAlive.destroy();
    expect(logs.withMessage("serving certificate reloaded")).toHaveLength(1);
  });
});

describe("policy set reload", () => {
  const header = "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\n";

  it("keeps serving the previous policy set when the new file is invalid", {
    timeout: 20_000,
  }, async () => {
    const dir = tempDir();
    const config = join(dir, "policyset.yaml");
    writeFileSync(config, `${header}defaultMode: enforce\n`);
    const { server, logs, ca } = await serve({ config });
    const allowed = async () =>
      JSON.parse(
        (await httpsCall({ port: server.port, path: "/validate", ca, body: privilegedReview() }))
          .body,
      ).response.allowed as boolean;
    expect(await allowed()).toBe(false);

    writeFileSync(config, `${header}policies:\n  privileged:\n    action: shout\n`);
    const [failure] = await eventually(() => {
      const lines = logs.records().filter((r) => r.level === "error");
      return lines.length > 0 ? lines : undefined;
    });
    expect(failure).toMatchObject({ file: config, field: "policies.privileged.action" });
    expect(String(failure?.msg)).toContain("the previous one stays in force");
    expect(await allowed()).toBe(false);
    await sleep(300);
    expect(logs.records().filter((r) => r.level === "error")).toHaveLength(1);

    writeFileSync(config, `${header}defaultMode: warn\n`);
    await eventually(() => (logs.withMessage("policy set reloaded").length > 0 ? true : undefined));
    expect(await allowed()).toBe(true);
    expect(server.policies().settings.defaultMode).toBe("warn");
  });

  it("keeps the previous CEL policies when a reloaded expression does not compile", {
    timeout: 20_000,
  }, async () => {
    const dir = tempDir();
    const config = join(dir, "policyset.yaml");
    const celPolicy = (expression: string) =>
      `${header}celPolicies:\n  - id: team-label\n    action: deny\n    match: { kinds: [Pod] }\n    validations:\n      - expression: ${JSON.stringify(expression)}\n        message: needs a team label\n`;
    writeFileSync(
      config,
      celPolicy("has(object.metadata.labels) && 'team' in object.metadata.labels"),
    );
    const { server, logs, ca } = await serve({ config });
    const denial = async () =>
      String(
        JSON.parse(
          (await httpsCall({ port: server.port, path: "/validate", ca, body: privilegedReview() }))
            .body,
        ).response.status?.message,
      );
    expect(await denial()).toContain("needs a team label");

    writeFileSync(config, celPolicy("object.metadata.name =="));
    const [failure] = await eventually(() => {
      const lines = logs.records().filter((r) => r.level === "error");
      return lines.length > 0 ? lines : undefined;
    });
    expect(failure).toMatchObject({
      file: config,
      field: "celPolicies[0].validations[0].expression",
    });
    expect(String(failure?.msg)).toContain("policy team-label: ");
    expect(String(failure?.msg)).toContain('of "object.metadata.name =="');
    expect(await denial()).toContain("needs a team label");

    writeFileSync(config, `${header}defaultMode: enforce\n`);
    await eventually(() => (logs.withMessage("policy set reloaded").length > 0 ? true : undefined));
    expect(await denial()).not.toContain("needs a team label");
  });

  it("refuses to start on an invalid file, naming file and field", async () => {
    const dir = tempDir();
    const config = join(dir, "policyset.yaml");
    writeFileSync(config, `${header}defaultMode: loud\n`);
    await expect(serve({ config })).rejects.toThrow(`${config}: defaultMode:`);
  });
});

describe("shutdown in process", () => {
  it("closes a keep-alive connection whose request was in flight, without waiting for its timeout", async () => {
    const { server, ca } = await serve({ drainDelayMs: 200 });
    const agent = new Agent({ keepAlive: true, ca });
    const body = privilegedReview();
    let finish = () => {};
    const answer = new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const req = validatePost(server.port, agent, body, (res) => {
          res.resume();
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
          );
        });
        req.on("error", reject);
        req.write(body.slice(0, 50));
        finish = () => req.end(body.slice(50));
      },
    );
    await sleep(100);
    const closed = server.shutdown("test");
    running.splice(running.indexOf(server), 1);
    await sleep(400);
    finish();
    expect(await answer).toEqual({ status: 200, connection: "close" });
    // The keep-alive timeout is 120 s, far past this test's timeout: shutdown
    // settles only because the connection was closed after its answer.
    await closed;
    agent.destroy();
  });
});
