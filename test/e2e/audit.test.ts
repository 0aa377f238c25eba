// `tollgate audit` against the loopback control plane of test/e2e/controlplane
// (etcd + kube-apiserver, no controllers: objects are stored, nothing runs).
// The e2e global setup starts it (or points at another cluster); see docs/e2e.md.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  mapLimit,
  REPORT_ANNOTATIONS,
  REPORT_GROUP,
  REPORT_LABEL_SELECTOR,
  REPORT_VERSION,
} from "../../src/audit/reports.js";
import { type AuditResult, exitCodeOf, runAudit } from "../../src/audit/run.js";
import type { AuditFinding } from "../../src/audit/types.js";
import { register, runAuditCommand } from "../../src/cli/commands/audit.js";
import { runCli } from "../../src/cli/program.js";
import { auditKubeConfig } from "../../src/cluster/audit-connect.js";
import { KubeReportApi, kubeAuditAdapters } from "../../src/cluster/audit-reports.js";
import { KubeAuditSource } from "../../src/cluster/audit-source.js";
import { loadPolicies } from "../../src/policyset/index.js";
import { CHECKS } from "../support/checks.js";
import { stringIO } from "../support/cli-io.js";
import { specReadingSet } from "../support/policies.js";
import { cluster } from "./support/cluster.js";
import { apply, expectSuccess } from "./support/kubectl.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
// The cluster the e2e global setup chose: the loopback control plane or any other.
const KUBECONFIG = cluster().kubeconfig;
const RESULTS_DIR = mkdtempSync(join(tmpdir(), "tollgate-audit-e2e-"));

/** Scale test size (Deployments in all); TOLLGATE_E2E_AUDIT_SCALE changes it. */
const SCALE_NAMESPACES = 20;
const SCALE_PER_NAMESPACE = Math.max(
  1,
  Math.round(Number(process.env.TOLLGATE_E2E_AUDIT_SCALE ?? 2000) / SCALE_NAMESPACES),
);

const RUN_ID = Date.now().toString(36).slice(-6);
const NS_A = `tg-audit-${RUN_ID}-a`;
const NS_B = `tg-audit-${RUN_ID}-b`;
const OFF = { "tollgate.dev/mode": "off" };
const LOAD_BALANCER_ITEM = "Don't expose your load-balancer on Internet if not necessary";
const DASHBOARD_ITEM = "Check if you need the Kubernetes dashboard";

function container(name: string, image: string, privileged = false) {
  return { name, image, ...(privileged ? { securityContext: { privileged: true } } : {}) };
}

function template(labels: Record<string, string>, image: string, privileged = false) {
  return { metadata: { labels }, spec: { containers: [container("app", image, privileged)] } };
}

function isConflict(error: unknown): boolean {
  return (error as { code?: number }).code === 409;
}

describe("tollgate audit against a real API server", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  const created: string[] = [];

  async function createNamespace(name: string) {
    await core.createNamespace({ body: { metadata: { name, labels: OFF } } });
    created.push(name);
  }

  async function countReports(): Promise<number> {
    const namespaced = await custom.listClusterCustomObject({
      group: REPORT_GROUP,
      version: REPORT_VERSION,
      plural: "policyreports",
      labelSelector: REPORT_LABEL_SELECTOR,
    });
    const cluster = await custom.listClusterCustomObject({
      group: REPORT_GROUP,
      version: REPORT_VERSION,
      plural: "clusterpolicyreports",
      labelSelector: REPORT_LABEL_SELECTOR,
    });
    return (namespaced.items?.length ?? 0) + (cluster.items?.length ?? 0);
  }

  beforeAll(async () => {
    kc = auditKubeConfig(KUBECONFIG);
    const server = new URL(kc.getCurrentCluster()?.server ?? "");
    // Never audit (or seed) anything but the local throwaway control plane.
    expect(["127.0.0.1", "localhost", "[::1]"]).toContain(server.hostname);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);

    // The CRDs, from the file the deploy manifests ship.
    const crds = kc.makeApiClient(ApiextensionsV1Api);
    const text = readFileSync(join(REPO, "deploy/crds/policyreports.yaml"), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const body = doc.toJS() as V1CustomResourceDefinition;
      try {
        await crds.createCustomResourceDefinition({ body });
      } catch (error) {
        if (!isConflict(error)) throw error;
        const name = body.metadata?.name as string;
        const stored = await crds.readCustomResourceDefinition({ name });
        body.metadata = { ...body.metadata, resourceVersion: stored.metadata?.resourceVersion };
        await crds.replaceCustomResourceDefinition({ name, body });
      }
      const name = body.metadata?.name as string;
      for (let i = 0; ; i++) {
        const crd = await crds.readCustomResourceDefinition({ name });
        const ok = crd.status?.conditions?.some(
          (c) => c.type === "Established" && c.status === "True",
        );
        if (ok) break;
        if (i > 100) throw new Error(`${name} not established`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // Objects that predate enforcement, in namespaces admission leaves alone.
    await createNamespace(NS_A);
    await createNamespace(NS_B);
    const web = await apps.createNamespacedDeployment({
      namespace: NS_A,
      body: {
        metadata: { name: "legacy-privileged", labels: { app: "legacy" } },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "legacy" } },
          template: template({ app: "legacy" }, "nginx:1.27", true),
        },
      },
    });
    const rs = await apps.createNamespacedReplicaSet({
      namespace: NS_A,
      body: {
        metadata: {
          name: "legacy-privileged-6d5f",
          labels: { app: "legacy" },
          ownerReferences: [
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              name: "legacy-privileged",
              uid: web.metadata?.uid as string,
              controller: true,
            },
          ],
        },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "legacy" } },
          template: template({ app: "legacy" }, "nginx:1.27", true),
        },
      },
    });
    for (const suffix of ["x1", "x2"]) {
      await core.createNamespacedPod({
        namespace: NS_A,
        body: {
          metadata: {
            name: `legacy-privileged-6d5f-${suffix}`,
            labels: { app: "legacy" },
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "ReplicaSet",
                name: rs.metadata?.name as string,
                uid: rs.metadata?.uid as string,
                controller: true,
              },
            ],
          },
          spec: { containers: [container("app", "nginx:1.27", true)] },
        },
      });
    }
    await core.createNamespacedPod({
      namespace: NS_A,
      body: {
        metadata: { name: "naked-debug" },
        spec: { containers: [container("app", "busybox:1.36", true)] },
      },
    });
    await core.createNamespacedService({
      namespace: NS_A,
      body: {
        metadata: { name: "public-lb" },
        spec: { type: "LoadBalancer", selector: { app: "legacy" }, ports: [{ port: 80 }] },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: NS_A,
      body: {
        metadata: { name: "kubernetes-dashboard" },
        spec: {
          selector: { matchLabels: { app: "dash" } },
          template: template({ app: "dash" }, "kubernetesui/dashboard:v2.7.0"),
        },
      },
    });

    // A tidy namespace: quota, limit range, default deny, and a budget for its workload.
    await core.createNamespacedResourceQuota({
      namespace: NS_B,
      body: { metadata: { name: "quota" }, spec: { hard: { pods: "50" } } },
    });
    await core.createNamespacedLimitRange({
      namespace: NS_B,
      body: {
        metadata: { name: "limits" },
        spec: { limits: [{ type: "Container", _default: { memory: "256Mi" } }] },
      },
    });
    await kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
      namespace: NS_B,
      body: {
        metadata: { name: "default-deny" },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      },
    });
    await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: NS_B,
      body: {
        metadata: { name: "api" },
        spec: { minAvailable: 1, selector: { matchLabels: { app: "api" } } },
      },
    });
    await apps.createNamespacedDeployment({
      namespace: NS_B,
      body: {
        metadata: { name: "api" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "api" } },
          template: template({ app: "api" }, "mcr.microsoft.com/azuredocs/aks-helloworld:v1"),
        },
      },
    });
  });

  afterAll(async () => {
    if (!core) return;
    // Without a namespace controller, deleted namespaces stay Terminating;
    // the audit skips those, so later runs are not affected.
    for (const namespace of created) {
      await apps.deleteCollectionNamespacedDeployment({ namespace }).catch(() => {});
      await apps.deleteCollectionNamespacedReplicaSet({ namespace }).catch(() => {});
      await core.deleteCollectionNamespacedPod({ namespace }).catch(() => {});
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    }
  });

  function about(findings: AuditFinding[], name: string, item?: string) {
    return findings.filter(
      (f) => f.resource?.name === name && (item === undefined || f.checklist.item === item),
    );
  }

  let audit: { result: AuditResult; findings: AuditFinding[] };

  it("reports what admission would deny, warn or patch in objects that predate enforcement", async () => {
    const findings: AuditFinding[] = [];
    const result = await runAudit(new KubeAuditSource(kc), {
      policies: loadPolicies(undefined),
      namespaces: [NS_A, NS_B],
      pageSize: 2,
      onFinding: (f) => {
        findings.push(f);
      },
    });
    audit = { result, findings };

    const privileged = about(findings, "legacy-privileged").filter(
      (f) => f.policy === "privileged",
    );
    expect(privileged).toHaveLength(1);
    expect(privileged[0]).toMatchObject({
      action: "deny",
      severity: "critical",
      resource: { kind: "Deployment", namespace: NS_A },
      path: "spec.template.spec.containers[0].securityContext.privileged",
    });
    expect(about(findings, "naked-debug").some((f) => f.policy === "privileged")).toBe(true);
    // The ReplicaSet and its pods repeat the Deployment: counted, not reported.
    expect(about(findings, "legacy-privileged-6d5f")).toEqual([]);
    expect(result.tally.kinds.get("ReplicaSet")).toMatchObject({ listed: 1, coveredByOwner: 1 });
    expect(result.tally.kinds.get("Pod")).toMatchObject({
      listed: 3,
      coveredByOwner: 2,
      evaluated: 1,
    });
    expect(result.tally.totals.patch).toBeGreaterThan(0);
    expect(exitCodeOf(result)).toBe(1);
  });

  it("runs the cluster-level checks and scores the checklist", () => {
    const { result, findings } = audit;
    const hygiene = (id: string) =>
      findings.filter((f) => f.policy === id).map((f) => f.resource?.name);
    expect(hygiene(CHECKS.resourceQuota.id)).toEqual([NS_A]);
    expect(hygiene(CHECKS.limitRange.id)).toEqual([NS_A]);
    expect(hygiene(CHECKS.defaultDeny.id)).toEqual([NS_A]);
    expect(hygiene(CHECKS.disruptionBudget.id)).toEqual(["legacy-privileged"]);
    // Load balancer and dashboard: one finding each, by internal-load-balancer and by
    // dashboard (its image; kubernetes-dashboard leaves an object running one to it).
    const lb = about(findings, "public-lb", LOAD_BALANCER_ITEM);
    expect(lb).toHaveLength(1);
    expect(about(findings, "kubernetes-dashboard", DASHBOARD_ITEM).length).toBe(1);
    expect(result.version.status).toBe("pass");

    const item = (name: string) => result.score.items.find((i) => i.item === name);
    expect(item("Don't use privileged containers")?.status).toBe("fail");
    expect(item("Enforce resource quotas")?.status).toBe("fail");
    expect(item("Maintain kubernetes version up to date")?.status).toBe("pass");
    expect(item("Private cluster")?.status).toBe("out-of-reach");
    expect(result.score.inReach).toBe(result.score.passed + result.score.failed);
  });

  it("hands the policies a field newer than client-node's models", async () => {
    // podCertificate.userAnnotations is GA in Kubernetes 1.37 and absent from
    // the models client-node (1.34) generates: the typed client drops it.
    const namespace = `tg-audit-${RUN_ID}-c`;
    await createNamespace(namespace);
    const labels = { app: "cert-user" };
    const podCertificate = {
      signerName: "example.com/audit",
      keyType: "ED25519",
      credentialBundlePath: "bundle.pem",
      userAnnotations: { "example.com/team": "audit" },
    };
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cert-user", namespace },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [container("app", "mcr.microsoft.com/azuredocs/aks-helloworld:v1")],
            volumes: [{ name: "cert", projected: { sources: [{ podCertificate }] } }],
          },
        },
      },
    };
    expectSuccess(await apply(deployment), "kubectl apply of the Deployment");
    const typed = await apps.readNamespacedDeployment({ name: "cert-user", namespace });
    // Only the volume counts: kubectl's last-applied annotation keeps the field as text.
    const typedVolumes = JSON.stringify(typed.spec?.template.spec?.volumes);
    expect(typedVolumes).toContain("example.com/audit");
    expect(typedVolumes).not.toContain("userAnnotations");

    // A policy written for the newer API reads the field; its finding proves it arrived.
    const policies = specReadingSet(
      (spec) => JSON.stringify(spec).includes('"userAnnotations":{"example.com/team":"audit"}'),
      "passes example.com/team to its signer",
    );
    const result = await runAudit(new KubeAuditSource(kc), {
      policies,
      namespaces: [namespace],
      clusterChecks: [],
    });
    expect(result.tally.bucket(namespace).kept.map((f) => f.message)).toEqual([
      'Deployment "cert-user": passes example.com/team to its signer',
    ]);
  });

  it("writes PolicyReports that replace earlier results instead of piling up", async () => {
    const runs: { code: number; doc: Record<string, unknown>; reports: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const io = stringIO();
      const code = await runCli(
        [
          "audit",
          "--kubeconfig",
          KUBECONFIG,
          "--write-reports",
          "-o",
          "json",
          "--max-results",
          "5",
        ],
        io,
        [register],
      );
      expect(io.err).toBe("");
      runs.push({ code, doc: JSON.parse(io.out), reports: await countReports() });
    }
    expect(runs.map((r) => r.code)).toEqual([1, 1]);
    expect(runs[1]?.reports).toBe(runs[0]?.reports);
    expect(runs[1]?.doc.reports).toMatchObject({ created: 0, deleted: 0 });

    const report = (await custom.getNamespacedCustomObject({
      group: REPORT_GROUP,
      version: REPORT_VERSION,
      plural: "policyreports",
      namespace: NS_A,
      name: "tollgate-audit",
    })) as {
      summary: { fail: number; warn: number; pass: number };
      results: { policy: string; result: string; category: string }[];
      metadata: { annotations: Record<string, string> };
    };
    expect(report.results).toHaveLength(5);
    expect(report.summary.fail).toBeGreaterThan(5);
    expect(Number(report.metadata.annotations[REPORT_ANNOTATIONS.omitted])).toBe(
      report.summary.fail + report.summary.warn - 5,
    );
    // The most important results are the ones kept.
    expect(report.results.every((r) => r.result === "fail")).toBe(true);
    expect(report.results.some((r) => r.policy === "privileged" && r.category === "Windows")).toBe(
      true,
    );
    const tidy = (await custom.getNamespacedCustomObject({
      group: REPORT_GROUP,
      version: REPORT_VERSION,
      plural: "policyreports",
      namespace: NS_B,
      name: "tollgate-audit",
    })) as { results: { policy: string }[] };
    expect(tidy.results.some((r) => r.policy.startsWith("namespace-"))).toBe(false);
    const clusterReport = await new KubeReportApi(kc).get({
      kind: "ClusterPolicyReport",
      name: "tollgate-audit-cluster",
    });
    expect(clusterReport?.summary.pass).toBeGreaterThanOrEqual(1);

    // Fix the namespace's worst object: the next run replaces the report's results.
    await apps.deleteNamespacedDeployment({ namespace: NS_A, name: "legacy-privileged" });
    await apps.deleteNamespacedReplicaSet({ namespace: NS_A, name: "legacy-privileged-6d5f" });
    await core.deleteCollectionNamespacedPod({ namespace: NS_A, labelSelector: "app=legacy" });
    const again = stringIO();
    expect(
      await runCli(["audit", "--kubeconfig", KUBECONFIG, "-n", NS_A, "--write-reports"], again, [
        register,
      ]),
    ).toBe(1); // the naked privileged pod and the dashboard are still there
    const after = (await custom.getNamespacedCustomObject({
      group: REPORT_GROUP,
      version: REPORT_VERSION,
      plural: "policyreports",
      namespace: NS_A,
      name: "tollgate-audit",
    })) as { results: { resources?: { name: string }[] }[] };
    expect(after.results.some((r) => r.resources?.[0]?.name === "legacy-privileged")).toBe(false);
    expect(await countReports()).toBe(runs[1]?.reports);
  });

  it("fails with one line naming the missing permission or the unreachable server", async () => {
    // An identity that can authenticate but was granted nothing.
    await core.createNamespacedServiceAccount({
      namespace: NS_A,
      body: { metadata: { name: "nobody" } },
    });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: NS_A,
      name: "nobody",
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const limited = new KubeConfig();
    limited.loadFromOptions({
      clusters: [cluster],
      users: [{ name: "nobody", token: token.status?.token }],
      contexts: [{ name: "nobody", cluster: cluster.name, user: "nobody" }],
      currentContext: "nobody",
    });
    const io = stringIO();
    const code = await runAuditCommand(
      {
        format: "table",
        writeReports: false,
        maxResults: 10,
        pageSize: 100,
        strict: false,
      },
      io,
      { connect: () => kubeAuditAdapters(limited) },
    );
    expect(code).toBe(2);
    expect(io.err).toMatch(
      /^tollgate: forbidden: cannot list namespaces; grant the auditing identity "list" on "namespaces" \(.*system:serviceaccount:.*nobody.*\)\n$/,
    );

    const dir = join(tmpdir(), `tollgate-audit-${RUN_ID}`);
    const unreachable = join(dir, "kubeconfig");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      unreachable,
      readFileSync(KUBECONFIG, "utf8").replace(
        /server: https:\/\/127\.0\.0\.1:\d+/,
        "server: https://127.0.0.1:1",
      ),
    );
    const down = stringIO();
    expect(await runCli(["audit", "--kubeconfig", unreachable], down, [register])).toBe(2);
    expect(down.err).toBe(
      "tollgate: cannot reach the cluster at https://127.0.0.1:1: connection refused (ECONNREFUSED)\n",
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it(`audits ${SCALE_NAMESPACES * SCALE_PER_NAMESPACE} Deployments (and their ReplicaSets) in bounded memory`, async () => {
    const namespaces = Array.from(
      { length: SCALE_NAMESPACES },
      (_, i) => `tg-scale-${RUN_ID}-${i}`,
    );
    const seedStart = performance.now();
    await mapLimit(namespaces, 8, (ns) => createNamespace(ns));
    const jobs = namespaces.flatMap((namespace) =>
      Array.from({ length: SCALE_PER_NAMESPACE }, (_, i) => ({ namespace, name: `app-${i}` })),
    );
    await mapLimit(jobs, 32, async ({ namespace, name }) => {
      const labels = { app: name, "app.kubernetes.io/name": name };
      const deployment = await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name, labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: name } },
            template: template(labels, `contoso.azurecr.io/${name}:1.0.${name.length}`),
          },
        },
      });
      await apps.createNamespacedReplicaSet({
        namespace,
        body: {
          metadata: {
            name: `${name}-5f7d`,
            labels,
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name,
                uid: deployment.metadata?.uid as string,
                controller: true,
              },
            ],
          },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: name } },
            template: template(labels, `contoso.azurecr.io/${name}:1.0.${name.length}`),
          },
        },
      });
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;

    // In process: sample the RSS while the audit runs.
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    let found = 0;
    const result = await runAudit(new KubeAuditSource(kc), {
      policies: loadPolicies(undefined),
      pageSize: 500,
      onFinding: () => {
        found++;
      },
    });
    const inProcessSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    // The CLI as users run it, in its own process: wall time and max RSS.
    const dir = join(tmpdir(), `tollgate-audit-${RUN_ID}`);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, "cli.mts");
    const url = (p: string) => JSON.stringify(pathToFileURL(join(REPO, p)).href);
    writeFileSync(
      script,
      [
        `import { register } from ${url("src/cli/commands/audit.ts")};`,
        `import { processIO } from ${url("src/cli/context.ts")};`,
        `import { runCli } from ${url("src/cli/program.ts")};`,
        "const code = await runCli(process.argv.slice(2), processIO(), [register]);",
        'process.stderr.write("maxrss-kib=" + process.resourceUsage().maxRSS + "\\n");',
        "process.exitCode = code;",
      ].join("\n"),
    );
    const runCliChild = (nodeFlags: string[]) => {
      const outFile = join(dir, "audit.json");
      const out = openSync(outFile, "w");
      const start = performance.now();
      const child = spawnSync(
        process.execPath,
        [
          ...nodeFlags,
          "--import",
          "tsx",
          script,
          "audit",
          "--kubeconfig",
          KUBECONFIG,
          "-o",
          "json",
          "--write-reports",
        ],
        { cwd: REPO, stdio: ["ignore", out, "pipe"], encoding: "utf8", timeout: 600_000 },
      );
      closeSync(out);
      const seconds = (performance.now() - start) / 1000;
      const maxRssKiB = Number(/maxrss-kib=(\d+)/.exec(child.stderr)?.[1]);
      const doc = JSON.parse(readFileSync(outFile, "utf8"));
      return { status: child.status, stderr: child.stderr, seconds, maxRssKiB, doc };
    };
    const free = runCliChild([]);
    // A hard cap on V8's heap: were memory to grow with the cluster, this run would die.
    const capped = runCliChild(["--max-old-space-size=96"]);
    rmSync(dir, { recursive: true, force: true });

    const deployments = result.tally.kinds.get("Deployment");
    const replicaSets = result.tally.kinds.get("ReplicaSet");
    const numbers = {
      deployments: deployments?.listed,
      replicaSets: replicaSets?.listed,
      objectsListed: [...result.tally.kinds.values()].reduce((s, k) => s + k.listed, 0),
      findings: found,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      inProcessAuditSeconds: Number(inProcessSeconds.toFixed(2)),
      inProcessRssBaselineMiB: Math.round(baseline / 2 ** 20),
      inProcessRssPeakMiB: Math.round(peak / 2 ** 20),
      cliWallSeconds: Number(free.seconds.toFixed(2)),
      cliMaxRssMiB: Math.round(free.maxRssKiB / 1024),
      cliHeapCapped96MiBWallSeconds: Number(capped.seconds.toFixed(2)),
      cliHeapCapped96MiBMaxRssMiB: Math.round(capped.maxRssKiB / 1024),
      cliFindingsStreamed: free.doc.findings.length,
      cliReports: free.doc.reports,
    };
    console.log(`audit scale test: ${JSON.stringify(numbers, null, 2)}`);
    writeFileSync(join(RESULTS_DIR, "audit-scale.json"), `${JSON.stringify(numbers, null, 2)}\n`);

    expect(free.status, free.stderr).toBe(1);
    expect(capped.status, capped.stderr).toBe(1);
    expect(deployments?.listed).toBeGreaterThanOrEqual(SCALE_NAMESPACES * SCALE_PER_NAMESPACE);
    expect(replicaSets?.coveredByOwner).toBeGreaterThanOrEqual(
      SCALE_NAMESPACES * SCALE_PER_NAMESPACE,
    );
    expect(free.doc.findings.length).toBe(found);
    expect(capped.doc.findings.length).toBe(found);
  }, 900_000);
});
