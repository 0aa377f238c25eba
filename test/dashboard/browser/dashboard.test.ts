import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDashboard, startDashboard } from "../../../src/cli/commands/dashboard.js";
import { deployment } from "../../audit/fakes.js";
import { auditJson, fakeCluster, HOSTILE, sampleCluster } from "../fixtures.js";
import { launchChromium, screenshot, watchProblems } from "./chromium.js";

interface AuditDoc {
  score: {
    percent: number;
    passed: number;
    failed: number;
    inReach: number;
    outOfReach: number;
    items: { item: string; coverage?: string }[];
  };
  namespaces: { namespace: string; pass: number; fail: number; warn: number }[];
  findings: {
    message: string;
    path?: string;
    scope: string;
    resource?: { kind: string; namespace?: string; name: string };
  }[];
  summary: { checks: { id: string; status: string }[] };
  exceptions?: unknown[];
}

const number = (text: string | null) => Number((text ?? "").replace(/,/g, ""));

/** Findings in a namespace's report: about objects in it, or about the Namespace itself. */
function findingsOf(namespace: string) {
  return doc.findings.filter(
    (f) =>
      f.scope === "namespace" &&
      (f.resource?.namespace ?? (f.resource?.kind === "Namespace" ? f.resource.name : "")) ===
        namespace,
  );
}

let browser: Browser;
let dir: string;
let doc: AuditDoc;
let dashboard: RunningDashboard;

async function open(url: string, viewport = { width: 1440, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const problems = watchProblems(page);
  await page.goto(url);
  await page.locator(".view-title").waitFor();
  return { page, problems };
}

async function textsOf(page: Page, selector: string) {
  return page.locator(selector).allTextContents();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tollgate-dashboard-"));
  const text = await auditJson(sampleCluster());
  doc = JSON.parse(text);
  await writeFile(join(dir, "audit.json"), text);
  dashboard = await startDashboard({ from: join(dir, "audit.json"), host: "127.0.0.1", port: 0 });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("tollgate dashboard in Chromium", () => {
  it("loads with no console error, CSP violation or dialog", async () => {
    const { page, problems } = await open(dashboard.url);
    await page.locator("canvas").first().waitFor();
    await screenshot(page, "overview");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the score and the per-namespace numbers of the audit JSON", async () => {
    const { page } = await open(dashboard.url);
    expect(await page.locator("[data-testid=score-percent]").textContent()).toBe(
      `${doc.score.percent}%`,
    );
    for (const key of ["passed", "failed", "inReach", "outOfReach"] as const) {
      const id = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      expect(number(await page.locator(`[data-testid=score-${id}]`).textContent()), key).toBe(
        doc.score[key],
      );
    }
    const rows = page.locator("[data-testid=namespaces] tbody tr");
    expect(await rows.count()).toBe(doc.namespaces.length);
    for (const ns of doc.namespaces) {
      const row = rows.filter({ has: page.getByRole("link", { name: ns.namespace, exact: true }) });
      const cells = (await row.locator("td").allTextContents()).map(number);
      // Score, pass, fail, warn, findings, …
      expect(cells.slice(1, 4), ns.namespace).toEqual([ns.pass, ns.fail, ns.warn]);
      expect(cells[4], ns.namespace).toBe(findingsOf(ns.namespace).length);
    }
    await page.close();
  });

  it("marks the checklist items that policies judge only in part", async () => {
    const { page } = await open(dashboard.url);
    const shown = await textsOf(page, "ul.items li");
    expect(shown).toHaveLength(doc.score.items.length);
    const partial = doc.score.items.filter((i) => i.coverage === "partial").map((i) => i.item);
    expect(partial).toContain("Runtime Security of Applications");
    for (const { item, coverage } of doc.score.items) {
      const line = shown.find((text) => text.includes(item));
      expect(line?.includes("(partly judged)"), item).toBe(coverage === "partial");
    }
    await page.close();
  });

  it("navigates by keyboard to a namespace and lists each finding with its path and fix", async () => {
    const { page, problems } = await open(dashboard.url);
    const link = page
      .locator("[data-testid=namespaces]")
      .getByRole("link", { name: "shop", exact: true });
    await link.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Namespace shop" }).waitFor();
    const expected = findingsOf("shop");
    expect(expected.length).toBeGreaterThan(0);
    const rows = page.locator("[data-testid=resource] tbody tr");
    expect(await rows.count()).toBe(expected.length);
    const shown = (await rows.allTextContents()).join("\n");
    for (const f of expected) {
      expect(shown).toContain(f.message);
      if (f.path) expect(shown).toContain(f.path);
    }
    // Every finding of the namespace has a fix: the advice after the message's "; ".
    const fixes = await page
      .locator("[data-testid=resource] tbody tr td:nth-child(7)")
      .allTextContents();
    expect(fixes.every((fix) => fix.length > 0)).toBe(true);
    // Focus moved to the view's heading, for keyboard and screen-reader users.
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Namespace shop");
    await screenshot(page, "namespace");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("renders a hostile resource name as text and runs nothing", async () => {
    const { page, problems } = await open(`${dashboard.url}#/namespace/payments`);
    await page.getByRole("heading", { level: 2, name: "Namespace payments" }).waitFor();
    const titles = await textsOf(page, "[data-testid=resource] h4");
    expect(titles).toContain(`Deployment ${HOSTILE}`);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate('document.querySelectorAll("[onerror]").length')).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the cluster-level checks of the audit", async () => {
    const { page } = await open(`${dashboard.url}#/cluster`);
    const rows = page.locator("[data-testid=checks] tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(doc.summary.checks.length);
    const ids = await rows.locator("th").allTextContents();
    expect(ids).toEqual(doc.summary.checks.map((c) => c.id));
    await screenshot(page, "cluster");
    await page.close();
  });

  it("passes an axe-core scan of every view with no serious or critical violation", async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
    const { page } = await open(dashboard.url);
    const found: string[] = [];
    for (const view of ["#/", "#/namespace/shop", "#/cluster", "#/policy/privileged"]) {
      await page.goto(`${dashboard.url}${view}`);
      await page.locator(".view-title").waitFor();
      await page.waitForLoadState("networkidle");
      // Evaluated through the DevTools protocol, which the page's CSP does not govern.
      await page.evaluate(axe);
      const violations = await page.evaluate(async () => {
        const result = await (
          globalThis as unknown as {
            axe: {
              run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
            };
          }
        ).axe.run();
        return result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.length,
        }));
      });
      for (const v of violations) {
        if (v.impact === "serious" || v.impact === "critical")
          found.push(`${view} ${v.id} (${v.nodes})`);
      }
    }
    expect(found).toEqual([]);
    await page.close();
  });

  it("fits a laptop and a wide monitor without horizontal scrolling", async () => {
    for (const [name, viewport] of [
      ["laptop", { width: 1280, height: 800 }],
      ["wide", { width: 2560, height: 1440 }],
    ] as const) {
      const { page } = await open(dashboard.url, viewport);
      await page.locator("canvas").first().waitFor();
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      expect(overflow, name).toBeLessThanOrEqual(0);
      await screenshot(page, `overview-${name}`);
      await page.close();
    }
  });
});

describe("exceptions and the score trend", () => {
  it("lists exceptions with their expiry when the audit JSON has them", async () => {
    const withExceptions = {
      ...doc,
      exceptions: [
        {
          name: "legacy-web",
          namespace: "shop",
          policies: ["privileged"],
          expires: "2099-01-31T00:00:00Z",
          reason: HOSTILE,
        },
        { name: "old", namespace: "default", expires: "2020-01-01T00:00:00Z" },
      ],
    };
    const file = join(dir, "exceptions.json");
    await writeFile(file, JSON.stringify(withExceptions));
    const other = await startDashboard({ from: file, host: "127.0.0.1", port: 0 });
    try {
      const { page, problems } = await open(other.url);
      const rows = page.locator("[data-testid=exceptions] tbody tr");
      expect(await rows.count()).toBe(2);
      const first = await rows.nth(0).locator("th, td").allTextContents();
      expect(first.slice(0, 3)).toEqual(["legacy-web", "shop", "privileged"]);
      expect(first[3]).toMatch(/^2099-01-31T00:00:00Z \(in \d+ days\)$/);
      expect(first[5]).toBe(HOSTILE);
      expect(await rows.nth(1).locator("td").nth(2).textContent()).toBe(
        "expired 2020-01-01T00:00:00Z",
      );
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await other.close();
    }
  });

  it("refreshes a live audit on demand and draws the trend of the runs", async () => {
    const cluster = sampleCluster();
    const live = await startDashboard({ host: "127.0.0.1", port: 0 }, fakeCluster(cluster));
    try {
      const { page, problems } = await open(live.url);
      expect(await page.getByText("Live:").count()).toBe(1);
      // The next run sees one more privileged Deployment.
      cluster.push(deployment("shop", "extra", { privileged: true }));
      await page.getByRole("button", { name: "Refresh audit" }).click();
      await page.getByText("Audit refreshed.").waitFor();
      await page.getByRole("img", { name: /Checklist score over the last 2 runs/ }).waitFor();
      const [first, second] = live.state.trend;
      expect(second?.findings).toBeGreaterThan(first?.findings ?? Infinity);
      await screenshot(page, "overview-live");
      // The README shows this one (docs/images/dashboard.png).
      await screenshot(page, "overview-live-window", false);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await live.close();
    }
  });
});
