// npm run bench:dashboard — how long the dashboard's first view takes for a
// large cluster (2,000 namespaces, 100,000 findings) in headless Chromium:
// from navigation to the score and the namespace table on screen. Prints
// figures; asserts nothing.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDashboard } from "../../src/cli/commands/dashboard.js";
import { deployment, namespace } from "../audit/fakes.js";
import { launchChromium } from "../dashboard/browser/chromium.js";
import { auditJson } from "../dashboard/fixtures.js";

const NAMESPACES = 2_000;
const FINDINGS = 100_000;
const RUNS = 5;

interface Doc {
  findings: { resource?: { namespace?: string; name: string; kind: string }; message: string }[];
  namespaces: { namespace: string }[];
  [key: string]: unknown;
}

/** A real audit of one namespace, copied to NAMESPACES namespaces until FINDINGS findings. */
async function largeAudit(): Promise<string> {
  const doc = JSON.parse(
    await auditJson([namespace("ns"), deployment("ns", "web", { privileged: true })]),
  ) as Doc;
  const template = doc.findings.filter((f) => f.resource?.namespace === "ns");
  const row = doc.namespaces.find((n) => n.namespace === "ns");
  const perNamespace = Math.ceil(FINDINGS / NAMESPACES);
  const findings: Doc["findings"] = [];
  const namespaces: Doc["namespaces"] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const name = `team-${String(n).padStart(4, "0")}`;
    namespaces.push({ ...row, namespace: name });
    for (let i = 0; i < perNamespace && findings.length < FINDINGS; i++) {
      const f = template[i % template.length] as Doc["findings"][number];
      const workload = `web-${Math.floor(i / template.length)}`;
      findings.push({
        ...f,
        resource: { ...(f.resource as object), namespace: name, name: workload } as never,
      });
    }
  }
  return JSON.stringify({ ...doc, findings, namespaces });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const dir = await mkdtemp(join(tmpdir(), "tollgate-dashboard-bench-"));
const file = join(dir, "audit.json");
const text = await largeAudit();
await writeFile(file, text);
const loadStart = performance.now();
const dashboard = await startDashboard({ from: file, host: "127.0.0.1", port: 0 });
const loadMs = performance.now() - loadStart;
const browser = await launchChromium();
try {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const start = performance.now();
    await page.goto(dashboard.url);
    await page.locator("[data-testid=score-percent]").waitFor();
    await page.locator("[data-testid=namespaces] tbody tr").first().waitFor();
    times.push(performance.now() - start);
    await page.close();
  }
  console.log(
    `dashboard: ${NAMESPACES} namespaces, ${FINDINGS} findings, ${(text.length / 1e6).toFixed(1)} MB of audit JSON`,
  );
  console.log(`  server start (read, check and index the file): ${loadMs.toFixed(0)} ms`);
  console.log(
    `  first view in Chromium (navigation to score and namespace table), ${RUNS} runs: median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (target 2000 ms)`,
  );
} finally {
  await browser.close();
  await dashboard.close();
  await rm(dir, { recursive: true, force: true });
}
