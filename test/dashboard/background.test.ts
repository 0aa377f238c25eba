import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { startBackgroundAudit } from "../../src/audit/background.js";
import { feedDashboard } from "../../src/dashboard/background.js";
import { DashboardState } from "../../src/dashboard/state.js";
import { loadPolicies } from "../../src/policyset/index.js";
import { FakeSource } from "../audit/fakes.js";
import { testApp } from "../server/support.js";
import { auditJson, sampleCluster } from "./fixtures.js";

const quiet = { info() {}, warn() {}, error() {} };

/** Runs the background audit `runs` times over the cluster and returns the dashboard state. */
async function backgroundRuns(runs: number, source: FakeSource) {
  const state = new DashboardState({ mode: "in-cluster", label: "the background audit" });
  const feed = feedDashboard(state);
  let finished = 0;
  await new Promise<void>((resolve) => {
    const audit = startBackgroundAudit({
      source,
      policies: () => loadPolicies(undefined),
      intervalMs: 10_000,
      initialDelayMs: 0,
      jitter: 0,
      registry: new Registry(),
      logger: quiet,
      onFinding: feed.onFinding,
      onRunFinished: async (outcome) => {
        await feed.onRunFinished(outcome);
        if (++finished === runs) void audit.stop().then(resolve);
      },
    });
  });
  return state;
}

describe("the in-cluster dashboard", () => {
  it("shows each background run as `tollgate audit --format json` would, read-only under /dashboard/", async () => {
    const state = await backgroundRuns(1, new FakeSource(sampleCluster()));
    const expected = JSON.parse(await auditJson(sampleCluster()));
    const { app } = testApp({ dashboard: state });
    const overview = (await app.inject({ url: "/dashboard/api/overview" })).json();
    expect(overview.source).toMatchObject({ mode: "in-cluster", refreshable: false });
    expect(overview.score.percent).toBe(expected.score.percent);
    expect(overview.audit.findings).toBe(expected.findings.length);
    expect(overview.namespaces.map((n: { fail: number }) => n.fail)).toEqual(
      expected.namespaces.map((n: { fail: number }) => n.fail),
    );
    const page = await app.inject({ url: "/dashboard/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    const refresh = await app.inject({
      method: "POST",
      url: "/dashboard/api/refresh",
      headers: { "x-tollgate-refresh": "1" },
    });
    expect(refresh.statusCode).toBe(404);
    await app.close();
  });

  it("keeps the score of every run for the trend", async () => {
    const state = await backgroundRuns(2, new FakeSource(sampleCluster()));
    expect(state.trend).toHaveLength(2);
  });

  it("is not served without a background audit", async () => {
    const { app } = testApp();
    expect((await app.inject({ url: "/dashboard/" })).statusCode).toBe(404);
    await app.close();
  });
});
