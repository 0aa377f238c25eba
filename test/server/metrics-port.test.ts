// --metrics-port: /metrics leaves the webhook's HTTPS port for a plain-HTTP
// port of its own, which a NetworkPolicy can open to scrapers only.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server/main.js";
import { httpsCall, LogCapture, privilegedPod, reviewOf } from "./support.js";

const running: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.shutdown("test done");
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(metricsPort: number | undefined) {
  const stateDir = mkdtempSync(join(tmpdir(), "tollgate-metrics-port-"));
  dirs.push(stateDir);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    metricsPort,
    stateDir,
    signals: false,
    drainDelayMs: 0,
    namespaces: "none",
    logger: new LogCapture().logger,
  });
  running.push(server);
  return { server, ca: readFileSync(server.certificate.caFile ?? "", "utf8") };
}

function httpGet(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          type: String(response.headers["content-type"]),
          body,
        }),
      );
    }).on("error", reject);
  });
}

describe("--metrics-port", () => {
  it("serves /metrics over plain HTTP there, and no longer on the webhook port", async () => {
    const { server, ca } = await serve(0);
    const url = server.metricsUrl ?? "";
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const review = reviewOf(privilegedPod(), { uid: "counted" });
    const answer = await httpsCall({
      port: server.port,
      path: "/validate",
      ca,
      body: JSON.stringify(review),
    });
    expect(answer.status).toBe(200);

    const scrape = await httpGet(url);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.body).toContain(
      'tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="enforce",decision="denied",dry_run="false"} 1',
    );

    const onWebhook = await httpsCall({ port: server.port, path: "/metrics", ca });
    expect(onWebhook.status).toBe(404);
    expect(JSON.parse(onWebhook.body).message).toMatch(/serves [^;]*GET \/readyz$/);
    expect((await httpGet(url.replace("/metrics", "/healthz"))).status).toBe(404);
  });

  it("is closed once the server has shut down", async () => {
    const { server } = await serve(0);
    const url = server.metricsUrl ?? "";
    expect((await httpGet(url)).status).toBe(200);
    await running.splice(0)[0]?.shutdown("test done");
    await expect(httpGet(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("fails the start when the metrics port is taken, naming the port", async () => {
    const { server } = await serve(0);
    const taken = Number(new URL(server.metricsUrl ?? "").port);
    await expect(serve(taken)).rejects.toMatchObject({ code: "EADDRINUSE", port: taken });
  });

  it("leaves /metrics on the webhook port without it", async () => {
    const { server, ca } = await serve(undefined);
    expect(server.metricsUrl).toBeUndefined();
    const scrape = await httpsCall({ port: server.port, path: "/metrics", ca });
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain("# TYPE tollgate_admission_requests_total counter");
  });
});
