import { describe, expect, it } from "vitest";
import { AuditError } from "../../src/audit/errors.js";
import { REPORT_FORMATS } from "../../src/audit/reports.js";
import type { ClusterSource } from "../../src/audit/types.js";
import { register, runAuditCommand } from "../../src/cli/commands/audit.js";
import { runCli } from "../../src/cli/program.js";
import { stringIO } from "../support/cli-io.js";
import {
  deployment,
  FakeReportApi,
  FakeSource,
  namespace,
  policiesOf,
  tidyNamespace,
} from "./fakes.js";

const base = {
  format: "table" as const,
  writeReports: false,
  maxResults: 200,
  pageSize: 500,
  strict: false,
};

function connectTo(source: ClusterSource, reports = new FakeReportApi()) {
  return {
    connect: () => ({ source, reports }),
    // A fixed set, so that policies added to the registry do not change these tests.
    loadPolicies: () => policiesOf(["privileged", "service-account-token"]),
  };
}

describe("tollgate audit", () => {
  it("exits 1 and prints the summary when something would be denied", async () => {
    const io = stringIO();
    const source = new FakeSource([
      ...tidyNamespace("a"),
      deployment("a", "web", { privileged: true }),
    ]);
    const code = await runAuditCommand(base, io, connectTo(source));
    expect(code).toBe(1);
    expect(io.out).toContain("Tollgate audit of https://fake.invalid:6443");
    expect(io.out).toContain("Would be denied: 1 object");
    expect(io.out).toContain("Checklist score:");
    expect(io.out).toContain("FAIL Windows / Don't use privileged containers");
    expect(io.out).toContain("Result: 1 object would be denied (exit 1).");
    expect(io.err).toBe("");
  });

  it("marks a partly judged item and weighs it less, in the table and the JSON", async () => {
    const source = () => new FakeSource([...tidyNamespace("a"), deployment("a", "web")]);
    const connect = () => ({
      connect: () => ({ source: source(), reports: new FakeReportApi() }),
      loadPolicies: () => policiesOf(["privileged", "seccomp-required"]),
    });
    const table = stringIO();
    await runAuditCommand(base, table, connect());
    expect(table.out).toContain("1 partly judged item weighing 0.5");
    expect(table.out).toContain(
      "FAIL Container / Runtime Security of Applications (partly judged): 1 warn (policy seccomp-required)",
    );
    const json = stringIO();
    await runAuditCommand({ ...base, format: "json" }, json, connect());
    const { score } = JSON.parse(json.out);
    type Item = { item: string; status: string; coverage?: string };
    const items: Item[] = score.items;
    expect(items.find((i) => i.item === "Runtime Security of Applications")).toMatchObject({
      status: "fail",
      coverage: "partial",
    });
    const scored = items.filter((i) => i.status !== "out-of-reach");
    const weight = (i: Item) => (i.coverage === "partial" ? 0.5 : 1);
    const passed = scored.filter((i) => i.status === "pass");
    const sum = (list: Item[]) => list.reduce((total, i) => total + weight(i), 0);
    expect(score.ratio).toBeCloseTo(sum(passed) / sum(scored));
    // The one failing item is partial, so it costs the score less than a full one would.
    expect(score.ratio).toBeGreaterThan(score.passed / score.inReach);
    expect(score.percent).toBe(Math.round(score.ratio * 100));
  });

  it("exits 0 when nothing would be denied, and 1 with --strict when a cluster check fails", async () => {
    const source = () =>
      new FakeSource([namespace("a"), deployment("a", "web", { automount: false })]);
    expect(await runAuditCommand(base, stringIO(), connectTo(source()))).toBe(0);
    const io = stringIO();
    expect(await runAuditCommand({ ...base, strict: true }, io, connectTo(source()))).toBe(1);
    expect(io.out).toContain("cluster-level checks failed (exit 1)");
  });

  it("streams JSON and writes reports when asked", async () => {
    const io = stringIO();
    const reports = new FakeReportApi();
    const source = new FakeSource([
      ...tidyNamespace("a"),
      deployment("a", "web", { privileged: true }),
    ]);
    const code = await runAuditCommand(
      { ...base, format: "json", writeReports: true },
      io,
      connectTo(source, reports),
    );
    const doc = JSON.parse(io.out);
    expect(code).toBe(1);
    expect(doc.exitCode).toBe(1);
    expect(doc.reports).toMatchObject({ created: 2, reports: 2 });
    expect(doc.score.percent).toBeTypeOf("number");
    expect(reports.store.size).toBe(2);
  });

  it("writes OpenReports with --report-api openreports", async () => {
    const source = new FakeSource([
      ...tidyNamespace("a"),
      deployment("a", "web", { privileged: true }),
    ]);
    let asked: string | undefined;
    let reports: FakeReportApi | undefined;
    const code = await runAuditCommand(
      { ...base, writeReports: true, reportApi: "openreports" },
      stringIO(),
      {
        ...connectTo(source),
        connect: (_kubeconfig, reportApi) => {
          asked = reportApi;
          reports = new FakeReportApi(REPORT_FORMATS[reportApi]);
          return { source, reports };
        },
      },
    );
    expect(code).toBe(1);
    expect(asked).toBe("openreports");
    expect([...(reports?.store.keys() ?? [])].sort()).toEqual([
      "ClusterReport//tollgate-audit-cluster",
      "Report/a/tollgate-audit",
    ]);
  });

  it("exits 2 with one line when the cluster cannot be used, and keeps JSON valid", async () => {
    const source = new FakeSource([]);
    source.list = async function* () {
      yield* [];
      throw new AuditError(
        "forbidden",
        'forbidden: cannot list deployments.apps; grant the auditing identity "list" on "deployments.apps"',
      );
    };
    const io = stringIO();
    const code = await runAuditCommand({ ...base, format: "json" }, io, connectTo(source));
    expect(code).toBe(2);
    expect(io.err).toBe(
      'tollgate: forbidden: cannot list deployments.apps; grant the auditing identity "list" on "deployments.apps"\n',
    );
    expect(JSON.parse(io.out)).toMatchObject({
      exitCode: 2,
      error: expect.stringContaining("forbidden"),
    });
  });

  it("exits 2 on bad flags and on a missing kubeconfig", async () => {
    const io = stringIO();
    expect(await runCli(["audit", "--max-results", "0"], io, [register])).toBe(2);
    expect(io.err).toContain("--max-results");
    const bad = stringIO();
    expect(await runCli(["audit", "-n", "Not_A_Namespace"], bad, [register])).toBe(2);
    const api = stringIO();
    expect(await runCli(["audit", "--report-api", "kyverno"], api, [register])).toBe(2);
    expect(api.err).toContain("wgpolicyk8s, openreports");
    const missing = stringIO();
    expect(
      await runCli(["audit", "--kubeconfig", "/nonexistent/kubeconfig"], missing, [register]),
    ).toBe(2);
    expect(missing.err).toBe("tollgate: kubeconfig /nonexistent/kubeconfig: no such file\n");
  });

  it("accepts repeated and comma-separated namespaces", async () => {
    const io = stringIO();
    const source = new FakeSource([
      ...tidyNamespace("a"),
      ...tidyNamespace("b"),
      ...tidyNamespace("c"),
      deployment("c", "web", { privileged: true }),
    ]);
    const code = await runAuditCommand({ ...base, namespaces: ["a", "b"] }, io, connectTo(source));
    expect(code).toBe(0);
    expect(io.out).toContain("namespaces: a, b");
  });
});
