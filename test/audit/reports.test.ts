import { describe, expect, it } from "vitest";
import { AuditError } from "../../src/audit/errors.js";
import {
  buildReport,
  CLUSTER_REPORT_NAME,
  NAMESPACED_REPORT_NAME,
  REPORT_ANNOTATIONS,
  REPORT_API_VERSION,
  REPORT_FORMATS,
  upsertReport,
  writeReports,
} from "../../src/audit/reports.js";
import { runAudit } from "../../src/audit/run.js";
import { AuditTally, CLUSTER_BUCKET } from "../../src/audit/tally.js";
import type { AuditFinding } from "../../src/audit/types.js";
import { resolvePolicySet } from "../../src/policyset/index.js";
import {
  deployment,
  FakeReportApi,
  FakeSource,
  namespace,
  policiesOf,
  service,
  tidyNamespace,
} from "./fakes.js";

const NOW = new Date("2026-11-20T10:00:00Z");

function finding(i: number, over: Partial<AuditFinding> = {}): AuditFinding {
  return {
    source: "policy",
    policy: "privileged",
    title: "Containers do not run privileged",
    checklist: { section: "Windows", item: "Don't use privileged containers" },
    severity: "critical",
    action: "deny",
    result: "fail",
    message: `Deployment "d${i}" container "app": runs privileged`,
    resource: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: "a",
      name: `d${i}`,
      uid: `u${i}`,
    },
    path: "spec.template.spec.containers[0].securityContext.privileged",
    container: "app",
    scope: "namespace",
    ...over,
  };
}

describe("buildReport", () => {
  it("writes a v1alpha2 PolicyReport with complete counts and capped results", () => {
    const tally = new AuditTally({ maxResults: 3, maxRetained: 100, examplesPerItem: 3 });
    for (let i = 0; i < 5; i++) tally.add("a", finding(i));
    tally.add("a", finding(9, { action: "warn", result: "warn", severity: "medium" }));
    tally.pass("a", { id: "privileged", source: "policy" }, [finding(0).checklist]);
    const report = buildReport(tally.bucket("a"), { now: NOW, maxResults: 3 });
    expect(report).toMatchObject({
      apiVersion: REPORT_API_VERSION,
      kind: "PolicyReport",
      metadata: {
        name: NAMESPACED_REPORT_NAME,
        namespace: "a",
        labels: { "app.kubernetes.io/managed-by": "tollgate" },
      },
      summary: { pass: 1, fail: 5, warn: 1, error: 0, skip: 0 },
    });
    expect(report.results).toHaveLength(3);
    expect(report.metadata.annotations[REPORT_ANNOTATIONS.omitted]).toBe("3");
    expect(report.results[0]).toEqual({
      policy: "privileged",
      rule: "privileged/validate",
      result: "fail",
      severity: "critical",
      category: "Windows",
      message: 'Deployment "d0" container "app": runs privileged',
      source: "tollgate",
      scored: true,
      timestamp: { seconds: NOW.getTime() / 1000, nanos: 0 },
      resources: [
        { apiVersion: "apps/v1", kind: "Deployment", namespace: "a", name: "d0", uid: "u0" },
      ],
      properties: {
        action: "deny",
        checklistItem: "Don't use privileged containers",
        title: "Containers do not run privileged",
        source: "policy",
        path: "spec.template.spec.containers[0].securityContext.privileged",
        container: "app",
      },
    });
  });

  it("stays under the byte limit whatever --max-results says", () => {
    const tally = new AuditTally({ maxResults: 1000, maxRetained: 10_000, examplesPerItem: 3 });
    const long = "x".repeat(2000);
    for (let i = 0; i < 1000; i++) tally.add("a", finding(i, { message: long }));
    const report = buildReport(tally.bucket("a"), {
      now: NOW,
      maxResults: 1000,
      maxBytes: 100_000,
    });
    expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(100_000);
    expect(report.results.length).toBeGreaterThan(10);
    expect(Number(report.metadata.annotations[REPORT_ANNOTATIONS.omitted])).toBe(
      1000 - report.results.length,
    );
    expect(report.summary.fail).toBe(1000);
  });

  it("writes the cluster bucket as a ClusterPolicyReport and hashes content, not time", () => {
    const tally = new AuditTally();
    tally.add(CLUSTER_BUCKET, finding(1, { resource: undefined, scope: "cluster" }));
    const a = buildReport(tally.bucket(CLUSTER_BUCKET), { now: NOW, maxResults: 10 });
    const b = buildReport(tally.bucket(CLUSTER_BUCKET), { now: new Date(), maxResults: 10 });
    expect(a.kind).toBe("ClusterPolicyReport");
    expect(a.metadata.name).toBe(CLUSTER_REPORT_NAME);
    expect(a.metadata.namespace).toBeUndefined();
    expect(a.results[0]?.resources).toBeUndefined();
    expect(a.metadata.annotations[REPORT_ANNOTATIONS.hash]).toBe(
      b.metadata.annotations[REPORT_ANNOTATIONS.hash],
    );
  });
});

describe("a CEL policy that cannot judge an object", () => {
  it("is reported as result error and counted under summary.error, not as a failure", async () => {
    // `replicas` is absent from the second Deployment: the expression fails there.
    const policies = resolvePolicySet(
      [],
      {
        apiVersion: "tollgate.dev/v1alpha1",
        kind: "PolicySet",
        celPolicies: [
          {
            id: "few-replicas",
            severity: "high",
            action: "deny",
            match: { kinds: ["Deployment"] },
            validations: [{ expression: "object.spec.replicas <= 3", message: "at most 3" }],
          },
        ],
      },
      "policyset.yaml",
    );
    const cluster = [
      ...tidyNamespace("shop"),
      deployment("shop", "small", { replicas: 2 }),
      deployment("shop", "big", { replicas: 9 }),
      deployment("shop", "unset"),
    ];
    const tally = (await runAudit(new FakeSource(cluster), { policies })).tally;
    const report = buildReport(tally.bucket("shop"), { now: NOW, maxResults: 10 });
    expect(report.summary.error).toBe(1);
    const byName = Object.fromEntries(
      report.results
        .filter((r) => r.policy === "few-replicas")
        .map((r) => [r.resources?.[0]?.name, r.result]),
    );
    expect(byName).toEqual({ big: "fail", unset: "error" });
  });
});

describe("upsertReport", () => {
  const report = () => {
    const tally = new AuditTally();
    tally.add("a", finding(1));
    return buildReport(tally.bucket("a"), { now: NOW, maxResults: 10 });
  };

  it("creates, then skips unchanged, then replaces with the stored resourceVersion", async () => {
    const api = new FakeReportApi();
    expect(await upsertReport(api, report())).toBe("created");
    expect(await upsertReport(api, report())).toBe("unchanged");
    const changed = report();
    changed.metadata.annotations[REPORT_ANNOTATIONS.hash] = "other";
    expect(await upsertReport(api, changed)).toBe("updated");
    expect(api.store.size).toBe(1);
  });

  it("reads again and retries after a conflict, and gives up after a few", async () => {
    const api = new FakeReportApi();
    await upsertReport(api, report());
    const changed = report();
    changed.metadata.annotations[REPORT_ANNOTATIONS.hash] = "other";
    api.conflicts = 2;
    expect(await upsertReport(api, changed)).toBe("updated");
    expect(api.log.filter((l) => l.startsWith("replace"))).toHaveLength(3);
    api.conflicts = 10;
    changed.metadata.annotations[REPORT_ANNOTATIONS.hash] = "third";
    await expect(upsertReport(api, changed, 3)).rejects.toThrow("changed under us 3 times");
  });
});

describe("writeReports", () => {
  const cluster = [
    ...tidyNamespace("clean"),
    namespace("dirty"),
    deployment("dirty", "web", { privileged: true }),
    namespace("kube-system"),
    service("kube-system", "lb", { type: "LoadBalancer" }),
  ];
  const policies = policiesOf(["privileged"]);

  it("writes one report per audited namespace plus the cluster one, idempotently", async () => {
    const api = new FakeReportApi();
    const first = await writeReports(api, await runAudit(new FakeSource(cluster), { policies }), {
      maxResults: 10,
    });
    expect(first).toMatchObject({ created: 3, updated: 0, unchanged: 0, deleted: 0, reports: 3 });
    expect([...api.store.keys()].sort()).toEqual([
      "ClusterPolicyReport//tollgate-audit-cluster",
      "PolicyReport/clean/tollgate-audit",
      "PolicyReport/dirty/tollgate-audit",
    ]);
    expect(api.store.get("PolicyReport/clean/tollgate-audit")?.results).toEqual([]);
    const second = await writeReports(api, await runAudit(new FakeSource(cluster), { policies }), {
      maxResults: 10,
    });
    expect(second).toMatchObject({ created: 0, unchanged: 3, reports: 3 });
    expect(api.store.size).toBe(3);
  });

  it("replaces results instead of piling them up, and deletes reports of namespaces no longer audited", async () => {
    const api = new FakeReportApi();
    await writeReports(api, await runAudit(new FakeSource(cluster), { policies }), {
      maxResults: 10,
    });
    const fixed = cluster.filter((o) => o.metadata?.name !== "web" && o.metadata?.name !== "dirty");
    const summary = await writeReports(api, await runAudit(new FakeSource(fixed), { policies }), {
      maxResults: 10,
    });
    expect(summary.deleted).toBe(1);
    expect([...api.store.keys()]).not.toContain("PolicyReport/dirty/tollgate-audit");
    const web = [...cluster, deployment("clean", "web2", { privileged: true })];
    await writeReports(api, await runAudit(new FakeSource(web), { policies }), { maxResults: 10 });
    await writeReports(api, await runAudit(new FakeSource(web), { policies }), { maxResults: 10 });
    expect(api.store.get("PolicyReport/clean/tollgate-audit")?.results).toHaveLength(1);
  });

  it("skips, rather than fails on, a namespace deleted while reports are written", async () => {
    const api = new FakeReportApi();
    const create = api.create.bind(api);
    api.create = async (report) => {
      if (report.metadata.namespace === "dirty") throw new AuditError("gone", "gone");
      return create(report);
    };
    const summary = await writeReports(api, await runAudit(new FakeSource(cluster), { policies }), {
      maxResults: 10,
    });
    expect(summary).toMatchObject({ created: 2, skipped: 1, reports: 2 });
  });

  it("writes Reports and a ClusterReport (openreports.io) with the same results when the API says so", async () => {
    const wg = new FakeReportApi();
    const or = new FakeReportApi(REPORT_FORMATS.openreports);
    const result = await runAudit(new FakeSource(cluster), { policies });
    await writeReports(wg, result, { maxResults: 10, now: NOW });
    await writeReports(or, result, { maxResults: 10, now: NOW });
    expect([...or.store.keys()].sort()).toEqual([
      "ClusterReport//tollgate-audit-cluster",
      "Report/clean/tollgate-audit",
      "Report/dirty/tollgate-audit",
    ]);
    const report = or.store.get("Report/dirty/tollgate-audit");
    const policyReport = wg.store.get("PolicyReport/dirty/tollgate-audit");
    expect(report).toMatchObject({ apiVersion: "openreports.io/v1alpha1", source: "tollgate" });
    expect(policyReport?.apiVersion).toBe("wgpolicyk8s.io/v1alpha2");
    expect(policyReport).not.toHaveProperty("source");
    expect(report?.results.length).toBeGreaterThan(0);
    expect(report?.results).toEqual(policyReport?.results);
    expect(report?.summary).toEqual(policyReport?.summary);
    // A namespace no longer audited loses its Report, not some PolicyReport.
    const fixed = cluster.filter((o) => o.metadata?.name !== "web" && o.metadata?.name !== "dirty");
    const summary = await writeReports(or, await runAudit(new FakeSource(fixed), { policies }), {
      maxResults: 10,
    });
    expect(summary.deleted).toBe(1);
    expect(or.log).toContain("delete Report/dirty/tollgate-audit");
  });

  it("touches only the given namespaces on a filtered audit", async () => {
    const api = new FakeReportApi();
    const result = await runAudit(new FakeSource(cluster), { policies, namespaces: ["dirty"] });
    const summary = await writeReports(api, result, { maxResults: 10 });
    expect(summary.reports).toBe(1);
    expect([...api.store.keys()]).toEqual(["PolicyReport/dirty/tollgate-audit"]);
  });
});
