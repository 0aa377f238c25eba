import { readdirSync, readFileSync } from "node:fs";
import Fastify from "fastify";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { hostAllower } from "../../src/cli/commands/dashboard.js";
import { type AuditView, parseAuditDocument } from "../../src/dashboard/audit-document.js";
import { CONTENT_SECURITY_POLICY, dashboardRoutes } from "../../src/dashboard/routes.js";
import { DashboardState, HISTORY_LIMIT } from "../../src/dashboard/state.js";
import { auditJson, HOSTILE, sampleCluster } from "./fixtures.js";

let audit: AuditView;
const apps: ReturnType<typeof Fastify>[] = [];

beforeAll(async () => {
  audit = parseAuditDocument(await auditJson(sampleCluster()), "audit.json");
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function appFor(state: DashboardState, options: { prefix?: string; host?: string } = {}) {
  const app = Fastify();
  apps.push(app);
  await app.register(dashboardRoutes, {
    state,
    allowHost: options.host ? hostAllower(options.host) : undefined,
    prefix: options.prefix,
  });
  return app;
}

function fileState(load?: () => Promise<AuditView>) {
  const state = new DashboardState({ mode: "file", label: "audit.json", load });
  state.publish(audit);
  return state;
}

describe("dashboard routes", () => {
  it("serves the page, its assets and its data with the strict CSP on every answer", async () => {
    const app = await appFor(fileState());
    for (const url of ["/", "/assets/app.js", "/assets/chart.umd.min.js", "/api/overview"]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-security-policy"], url).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers["x-content-type-options"], url).toBe("nosniff");
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    const missing = await app.inject({ url: "/api/namespaces/nowhere" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
  });

  it("answers a namespace with its resources' findings, hostile names as plain JSON strings", async () => {
    const app = await appFor(fileState());
    const res = await app.inject({ url: `/api/namespaces/payments` });
    const body = res.json();
    expect(body.namespace).toMatchObject({ namespace: "payments" });
    const names = body.resources.map((r: { name: string }) => r.name);
    expect(names).toContain(HOSTILE);
    expect(body.total).toBe(audit.findings.filter((f) => f.namespace === "payments").length);
  });

  it("serves below a prefix, redirecting the bare prefix to the page", async () => {
    const app = await appFor(fileState(), { prefix: "/dashboard" });
    const bare = await app.inject({ url: "/dashboard" });
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe("/dashboard/");
    expect((await app.inject({ url: "/dashboard/" })).statusCode).toBe(200);
  });

  it("refuses Host names other than its own, localhost and IP literals", async () => {
    const app = await appFor(fileState(), { host: "127.0.0.1" });
    const as = (host: string) => app.inject({ url: "/api/overview", headers: { host } });
    expect((await as("127.0.0.1:8700")).statusCode).toBe(200);
    expect((await as("localhost:8700")).statusCode).toBe(200);
    expect((await as("[::1]:8700")).statusCode).toBe(200);
    expect((await as("attacker.example:8700")).statusCode).toBe(403);
    expect(hostAllower("0.0.0.0")).toBeUndefined();
  });

  it("refreshes only with the refresh header, and only when it can load an audit", async () => {
    let loads = 0;
    const app = await appFor(
      fileState(async () => {
        loads++;
        return audit;
      }),
    );
    expect((await app.inject({ method: "POST", url: "/api/refresh" })).statusCode).toBe(403);
    expect(loads).toBe(0);
    const ok = await app.inject({
      method: "POST",
      url: "/api/refresh",
      headers: { "x-tollgate-refresh": "1" },
    });
    expect(ok.json()).toEqual({ ok: true, error: null });
    expect(loads).toBe(1);
    const readOnly = await appFor(fileState());
    expect(
      (
        await readOnly.inject({
          method: "POST",
          url: "/api/refresh",
          headers: { "x-tollgate-refresh": "1" },
        })
      ).statusCode,
    ).toBe(404);
  });

  it("says it is waiting before the first audit, and shows a failed load's error", async () => {
    const state = new DashboardState({
      mode: "live",
      label: "ctx",
      load: async () => {
        throw new Error("cannot reach the API server");
      },
    });
    const app = await appFor(state);
    const before = await app.inject({ url: "/api/overview" });
    expect(before.statusCode).toBe(503);
    await state.refresh();
    const after = await app.inject({ url: "/api/overview" });
    expect(after.json().source.error).toBe("cannot reach the API server");
  });
});

describe("DashboardState", () => {
  it("keeps a bounded trend of past runs", () => {
    const state = new DashboardState({ mode: "in-cluster", label: "x" });
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      state.publish({ ...audit, finishedAt: `run ${i}` });
    }
    expect(state.trend).toHaveLength(HISTORY_LIMIT);
    expect(state.trend[0]?.finishedAt).toBe("run 5");
  });

  it("runs one load at a time: a refresh during a refresh joins it", async () => {
    let loads = 0;
    const state = new DashboardState({
      mode: "live",
      label: "x",
      load: async () => {
        loads++;
        await new Promise((r) => setTimeout(r, 5));
        return audit;
      },
    });
    await Promise.all([state.refresh(), state.refresh(), state.refresh()]);
    expect(loads).toBe(1);
  });
});

describe("the page's scripts", () => {
  it("never hand cluster strings to an HTML parser", () => {
    const dir = new URL("../../src/dashboard/static/", import.meta.url);
    const scripts = readdirSync(dir).filter((f) => f.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    for (const file of scripts) {
      const source = readFileSync(new URL(file, dir), "utf8");
      expect(source, file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
      );
    }
  });
});
