// The short fuzz run CI does on every change: 2,000 mutated AdmissionReviews
// from a fixed seed against a real HTTPS listener in this process. The long
// run is `npm run fuzz` (docs/server.md). Nothing here is timed: the deadline
// only keeps a hung server from holding the suite.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT } from "../../src/server/app.js";
import { startServer } from "../../src/server/main.js";
import { LogCapture } from "../server/support.js";
import { campaignHolds, formatFigures, runCampaign } from "./campaign.js";

const COUNT = 2_000;
const SEED = 14;

const dir = mkdtempSync(join(tmpdir(), "tollgate-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fuzzed AdmissionReviews", () => {
  it(`answers ${COUNT} mutants of seed ${SEED} with no server error`, {
    timeout: 600_000,
  }, async () => {
    const logs = new LogCapture();
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      stateDir: dir,
      signals: false,
      drainDelayMs: 0,
      namespaces: "none",
      logger: logs.logger,
    });
    try {
      const figures = await runCampaign({
        url: server.url,
        ca: readFileSync(server.certificate.caFile ?? "", "utf8"),
        seed: SEED,
        count: COUNT,
        deadlineMs: 540_000,
        concurrency: 4,
        bodyLimit: DEFAULT_BODY_LIMIT,
      });
      const report = formatFigures(figures);
      // Both kinds are exercised, so neither half of the oracle goes untested.
      expect(figures.wellFormed, report).toBeGreaterThan(COUNT / 2);
      expect(figures.malformed, report).toBeGreaterThan(COUNT / 20);
      expect(figures.failures, report).toEqual([]);
      expect(campaignHolds(figures, COUNT), report).toBe(true);
      expect(logs.withMessage("request failed"), report).toEqual([]);
    } finally {
      await server.shutdown("fuzz done");
    }
  });
});
