import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gauge } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { type CompanionContext, startServer } from "../../src/server/main.js";
import { LogCapture } from "./support.js";

const dir = mkdtempSync(join(tmpdir(), "tollgate-companions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("companions (the background audit's hook into serve)", () => {
  it("start once the server listens, share its registry, and stop before it exits", async () => {
    const events: string[] = [];
    let context: CompanionContext | undefined;
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      stateDir: dir,
      signals: false,
      drainDelayMs: 0,
      namespaces: "none",
      logger: new LogCapture().logger,
      companions: [
        (ctx) => {
          context = ctx;
          events.push("started");
          new Gauge({
            name: "tollgate_companion_probe",
            help: "test",
            registers: [ctx.registry],
          }).set(1);
          return {
            stop: async () => {
              events.push("stopped");
            },
          };
        },
      ],
    });
    expect(events).toEqual(["started"]);
    expect(context?.policies().set.policies.length).toBeGreaterThan(0);
    const metrics = await server.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain("tollgate_companion_probe 1");
    await server.shutdown("test");
    expect(events).toEqual(["started", "stopped"]);
  });
});
