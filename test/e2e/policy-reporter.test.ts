// Policy Reporter (github.com/kyverno/policy-reporter) reads what `tollgate
// audit --write-reports` wrote, through both report APIs, and serves it on its
// own REST API: per policy, namespace and severity, with Tollgate's messages.
//
// NOT PART OF CI and not of `npm run test:e2e`: Tollgate neither ships nor
// builds Policy Reporter, so this suite needs a binary given by
// TOLLGATE_POLICY_REPORTER_BIN and runs with `npm run test:policy-reporter`.
// Without the variable it FAILS, saying so; it never passes without having
// run. docs/e2e.md#policy-reporter says how to run it.
//
// Policy Reporter listens on every interface (":PORT", not configurable), so
// it runs in a user and network namespace of its own with loopback only
// (`unshare`, support/netns-relay.mjs): it reaches the API server through a
// Unix socket relayed to the host's 127.0.0.1, and this test reaches its REST
// API through another Unix socket. No targets are configured: it sends
// nothing anywhere.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NAMESPACED_REPORT_NAME,
  type PolicyReportObject,
  type PolicyReportResult,
  REPORT_FORMATS,
  REPORT_PLURALS,
  type ReportApiName,
} from "../../src/audit/reports.js";
import { api, cluster, kubeConfig } from "./support/cluster.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";
import { installReportCrds } from "./support/report-crds.js";
import { writeReports } from "./support/write-reports.js";

const BIN = process.env.TOLLGATE_POLICY_REPORTER_BIN;
const RELAY = fileURLToPath(new URL("./support/netns-relay.mjs", import.meta.url));
/** Policy Reporter's port inside its own network namespace. */
const REPORTER_PORT = 8080;
const APIS: ReportApiName[] = ["wgpolicyk8s", "openreports"];

interface ReporterResult {
  namespace?: string;
  kind: string;
  name: string;
  message: string;
  policy: string;
  rule: string;
  status: string;
  severity?: string;
  category?: string;
}

/** GET on Policy Reporter's REST API through the Unix socket; JSON body. */
function get<T>(socketPath: string, path: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET", timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : null) as T });
        } catch {
          reject(new Error(`GET ${path}: not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The comparable part of one result, as Tollgate wrote it and as Policy Reporter serves it. */
function keyOf(r: {
  policy: string;
  severity?: string;
  message: string;
  status?: string;
  result?: string;
}) {
  return `${r.policy} | ${r.severity ?? ""} | ${r.status ?? r.result} | ${r.message}`;
}

describe("Policy Reporter reads Tollgate's reports", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-policy-reporter-"));
  const apiSock = join(dir, "apiserver.sock");
  const reporterSock = join(dir, "reporter.sock");
  const namespaces = new Map<ReportApiName, string>();
  const written = new Map<ReportApiName, PolicyReportObject>();
  let hostRelay: Server | undefined;
  let reporter: ChildProcess | undefined;
  let output = "";

  beforeAll(async () => {
    if (!BIN) {
      throw new Error(
        "TOLLGATE_POLICY_REPORTER_BIN is not set: this suite needs a Policy Reporter binary (github.com/kyverno/policy-reporter), which Tollgate does not ship or build; see docs/e2e.md#policy-reporter",
      );
    }
    if (!existsSync(BIN)) throw new Error(`TOLLGATE_POLICY_REPORTER_BIN=${BIN}: no such file`);
    const unshare = spawnSync("unshare", ["--user", "--map-root-user", "--net", "true"]);
    if (unshare.status !== 0) {
      throw new Error(
        `this suite runs Policy Reporter in a network namespace of its own, and \`unshare --user --map-root-user --net\` failed: ${unshare.stderr?.toString() || unshare.error?.message}`,
      );
    }
    const server = new URL(kubeConfig().getCurrentCluster()?.server ?? "");
    // Only the throwaway loopback control plane.
    expect(server.hostname).toBe("127.0.0.1");

    // Both APIs' CRDs exist before Policy Reporter starts: it looks for them once.
    for (const reportApi of APIS) await installReportCrds(reportApi);

    // One namespace per API, each with a Deployment that breaks several
    // policies of different severities; admission leaves "off" namespaces alone.
    for (const reportApi of APIS) {
      const namespace = await createNamespace(`preporter-${reportApi}`, "off");
      namespaces.set(reportApi, namespace);
      await api().apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: "web" },
          spec: {
            selector: { matchLabels: { app: "web" } },
            template: {
              metadata: { labels: { app: "web" } },
              spec: {
                hostNetwork: true,
                containers: [
                  { name: "app", image: "nginx:latest", securityContext: { privileged: true } },
                ],
              },
            },
          },
        },
      });
      const run = await writeReports(namespace, reportApi);
      expect(run.code, run.io.err).toBe(1);
      const format = REPORT_FORMATS[reportApi];
      const report = (await kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: format.group,
        version: format.version,
        namespace,
        plural: REPORT_PLURALS[format.namespacedKind],
        name: NAMESPACED_REPORT_NAME,
      })) as PolicyReportObject;
      written.set(reportApi, report);
    }

    // Host side: the Unix socket to the API server on 127.0.0.1.
    hostRelay = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: Number(server.port) });
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((resolve) => hostRelay?.listen(apiSock, resolve));

    // Policy Reporter's settings, explicitly: no targets, no leader election,
    // SQLite in the temporary directory (it also reads ./config.yaml, so it
    // runs in that directory).
    writeFileSync(
      join(dir, "config.yaml"),
      "leaderElection:\n  enabled: false\nlogging:\n  encoding: console\n",
    );
    reporter = spawn(
      "unshare",
      [
        "--user",
        "--map-root-user",
        "--net",
        "--",
        "sh",
        "-c",
        'ip link set lo up && exec "$@"',
        "sh",
        process.execPath,
        RELAY,
        server.port,
        apiSock,
        String(REPORTER_PORT),
        reporterSock,
        "--",
        BIN,
        "run",
        "--kubeconfig",
        cluster().kubeconfig,
        "--config",
        join(dir, "config.yaml"),
        "--rest-enabled",
        "--port",
        String(REPORTER_PORT),
        "--dbfile",
        join(dir, "policy-reporter.db"),
        "--template-dir",
        dir,
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir }, stdio: "pipe" },
    );
    reporter.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    reporter.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });

    // Ready, then both reports stored: bounded to 60 s.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (reporter.exitCode !== null) {
        throw new Error(`Policy Reporter exited ${reporter.exitCode}:\n${output.slice(-3000)}`);
      }
      try {
        const ready = await get<unknown>(reporterSock, "/ready");
        if (ready.status === 200) {
          let stored = 0;
          for (const [reportApi, namespace] of namespaces) {
            const r = await get<{ count: number }>(
              reporterSock,
              `/v1/namespaced-resources/results?namespaces=${namespace}`,
            );
            if (r.body?.count === written.get(reportApi)?.results.length) stored++;
          }
          if (stored === namespaces.size) break;
        }
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Policy Reporter did not serve both reports in 60 s:\n${output.slice(-3000)}`,
        );
      }
      await sleep(500);
    }
  }, 180_000);

  afterAll(async () => {
    if (reporter && reporter.exitCode === null) {
      reporter.kill("SIGTERM");
      await new Promise((r) => reporter?.once("exit", r));
    }
    await new Promise((r) => (hostRelay ? hostRelay.close(r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
    await cleanupNamespaces();
  });

  describe.each(APIS)("written with --report-api %s", (reportApi) => {
    const expected = () => written.get(reportApi)?.results ?? [];
    const ns = () => namespaces.get(reportApi) as string;

    it("lists every result with its policy, severity, status and message", async () => {
      expect(expected().length).toBeGreaterThan(1);
      const { status, body } = await get<{ items: ReporterResult[]; count: number }>(
        reporterSock,
        `/v1/namespaced-resources/results?namespaces=${ns()}&sources=tollgate&pageSize=500&page=1`,
      );
      expect(status).toBe(200);
      expect(body.items.map(keyOf).sort()).toEqual(expected().map(keyOf).sort());
      // The same objects: the Deployment and, for namespace hygiene, the Namespace.
      const objectsOf = (items: { kind: string; name: string }[]) =>
        items.map((o) => `${o.kind}/${o.name}`).sort();
      expect(objectsOf(body.items)).toEqual(
        objectsOf(expected().map((r) => r.resources?.[0] ?? { kind: "", name: "" })),
      );
      expect(objectsOf(body.items)).toContain("Deployment/web");
      for (const item of body.items) expect(item.namespace).toBe(ns());
    });

    it("filters by policy: the privileged container, critical, with Tollgate's message", async () => {
      const { body } = await get<{ items: ReporterResult[] }>(
        reporterSock,
        `/v1/namespaced-resources/results?namespaces=${ns()}&policies=privileged`,
      );
      const want = expected().filter((r) => r.policy === "privileged");
      expect(want).toHaveLength(1);
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({
        policy: "privileged",
        severity: "critical",
        status: "fail",
        message: (want[0] as PolicyReportResult).message,
      });
      expect(body.items[0]?.message).toContain('Deployment "web"');
    });

    it("counts results per severity as Tollgate wrote them", async () => {
      const severities = [...new Set(expected().map((r) => r.severity))];
      expect(severities.length).toBeGreaterThan(1);
      for (const severity of severities) {
        const { body } = await get<{ items: ReporterResult[]; count: number }>(
          reporterSock,
          `/v1/namespaced-resources/results?namespaces=${ns()}&severities=${severity}`,
        );
        const want = expected().filter((r) => r.severity === severity);
        expect(body.count, severity).toBe(want.length);
        expect(body.items.map(keyOf).sort(), severity).toEqual(want.map(keyOf).sort());
      }
    });

    it("lists the policies and the report of the namespace, from source tollgate", async () => {
      const policies = await get<string[]>(
        reporterSock,
        `/v1/namespaced-resources/policies?namespaces=${ns()}`,
      );
      expect([...policies.body].sort()).toEqual(
        [...new Set(expected().map((r) => r.policy))].sort(),
      );
      const reports = await get<{ items: { name: string; namespace: string; source: string }[] }>(
        reporterSock,
        `/v1/policy-reports?namespaces=${ns()}`,
      );
      expect(reports.body.items).toEqual([
        expect.objectContaining({
          name: NAMESPACED_REPORT_NAME,
          namespace: ns(),
          source: "tollgate",
        }),
      ]);
    });
  });
});
