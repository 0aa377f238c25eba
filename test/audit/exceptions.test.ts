// The audit honours PolicyExceptions as admission does: read from the cluster
// (or `tollgate audit --exceptions`), an excepted finding is a `skip` result
// naming the exception, and one that ends within 14 days is flagged.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AuditError } from "../../src/audit/errors.js";
import { buildReport } from "../../src/audit/reports.js";
import { exitCodeOf, runAudit } from "../../src/audit/run.js";
import type { AuditFinding, ListPage } from "../../src/audit/types.js";
import { runAuditCommand } from "../../src/cli/commands/audit.js";
import type { KubeObject } from "../../src/engine/index.js";
import { renderTable } from "../../src/render/audit-table.js";
import { exceptionObject } from "../exceptions/support.js";
import { stringIO } from "../support/cli-io.js";
import { deployment, FakeReportApi, FakeSource, policiesOf, tidyNamespace } from "./fakes.js";

const NOW = new Date("2027-01-20T00:00:00Z");
const DAY = 24 * 60 * 60 * 1000;

/** An exception of `privileged` for the Deployment `web`, ending `days` after `from`. */
function webException(namespace: string, name: string, days?: number, from = NOW): KubeObject {
  return exceptionObject(
    {
      policies: ["privileged"],
      match: { kinds: ["Deployment"], names: ["web"] },
      reason: "vendor agent",
      ...(days === undefined
        ? {}
        : { expires: new Date(from.getTime() + days * DAY).toISOString() }),
    },
    { name, namespace },
  ) as KubeObject;
}

const objects = (...extra: KubeObject[]) => [
  ...tidyNamespace("apps"),
  deployment("apps", "web", { privileged: true, automount: false }),
  ...extra,
];

async function audit(source: FakeSource) {
  const findings: AuditFinding[] = [];
  const result = await runAudit(source, {
    policies: policiesOf(["privileged"]),
    now: () => NOW,
    onFinding: (f) => {
      findings.push(f);
    },
  });
  return { result, findings };
}

describe("the audit and PolicyExceptions", () => {
  it("makes an excepted finding a skip result naming the exception: nothing would be denied", async () => {
    const { result, findings } = await audit(
      new FakeSource(objects(webException("apps", "vendor", 60))),
    );
    const privileged = findings.filter((f) => f.policy === "privileged");
    expect(privileged).toHaveLength(1);
    expect(privileged[0]).toMatchObject({
      result: "skip",
      action: "deny",
      exception: { namespace: "apps", name: "vendor", reason: "vendor agent", expiresSoon: false },
    });
    expect(result.tally.totals.deny).toBe(0);
    expect(result.tally.deniedObjects).toBe(0);
    expect(exitCodeOf(result)).toBe(0);
    expect(result.tally.bucket("apps").counts).toMatchObject({ fail: 0, skip: 1 });
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        namespace: "apps",
        name: "vendor",
        findings: 1,
        expiresSoon: false,
      }),
    ]);

    const report = buildReport(result.tally.bucket("apps"), { now: NOW, maxResults: 10 });
    expect(report.summary).toMatchObject({ fail: 0, skip: 1 });
    const skip = report.results.find((r) => r.result === "skip");
    expect(skip?.properties).toMatchObject({
      exception: "apps/vendor",
      exceptionReason: "vendor agent",
    });
    expect(skip?.properties.exceptionExpiresSoon).toBeUndefined();
  });

  it("flags an exception that ends within 14 days in the result, the report's properties and the table", async () => {
    const { result } = await audit(new FakeSource(objects(webException("apps", "vendor", 10))));
    expect(result.exceptions).toEqual([
      expect.objectContaining({ name: "vendor", expiresSoon: true, expired: false, findings: 1 }),
    ]);
    const report = buildReport(result.tally.bucket("apps"), { now: NOW, maxResults: 10 });
    expect(report.results.find((r) => r.result === "skip")?.properties).toMatchObject({
      exception: "apps/vendor",
      exceptionExpires: "2027-01-30T00:00:00.000Z",
      exceptionExpiresSoon: "true",
    });
    const table = renderTable(result, { color: false, maxResults: 10, exitCode: 0 });
    expect(table).toContain("excepted: 1");
    expect(table).toContain(
      "  apps/vendor until 2027-01-30 EXPIRES WITHIN 14 DAYS: 1 finding excepted (privileged); vendor agent",
    );
  });

  it("does not honour an expired exception, one of another namespace or a bad one, and says why", async () => {
    const bad = exceptionObject({ policies: [] }, { name: "bad", namespace: "apps" }) as KubeObject;
    const { result, findings } = await audit(
      new FakeSource(
        objects(webException("apps", "old", -1), webException("team-b", "elsewhere"), bad),
      ),
    );
    expect(findings.filter((f) => f.policy === "privileged")).toEqual([
      expect.objectContaining({ result: "fail", action: "deny" }),
    ]);
    expect(result.tally.deniedObjects).toBe(1);
    expect(result.notes).toContainEqual(
      expect.stringMatching(/^ignored PolicyException apps\/bad: spec\.policies: /),
    );
    expect(result.exceptions).toContainEqual(
      expect.objectContaining({ name: "old", expired: true, findings: 0 }),
    );
    const table = renderTable(result, { color: false, maxResults: 10, exitCode: 1 });
    expect(table).toContain("apps/old until 2027-01-19 EXPIRED, applied to nothing");
  });

  it("goes on without exceptions, saying so, when they cannot be listed", async () => {
    class NoCrd extends FakeSource {
      override async *list(
        kind: string,
        ns: string | undefined,
        size: number,
      ): AsyncIterable<ListPage> {
        if (kind === "PolicyException") {
          throw new AuditError(
            "not-found",
            "policyexceptions.tollgate.dev: the server could not find the requested resource",
          );
        }
        yield* super.list(kind, ns, size);
      }
    }
    const { result, findings } = await audit(new NoCrd(objects()));
    expect(findings.find((f) => f.policy === "privileged")?.result).toBe("fail");
    expect(result.notes).toContain(
      "PolicyExceptions not read, none applied: policyexceptions.tollgate.dev: the server could not find the requested resource",
    );
  });
});

describe("tollgate audit --exceptions", () => {
  it("honours the files' exceptions instead of the cluster's, reporting a bad one in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-audit-exceptions-"));
    const file = join(dir, "exceptions.yaml");
    const bad = exceptionObject({ reason: "" }, { name: "bad", namespace: "apps" });
    writeFileSync(
      file,
      `${stringify(webException("apps", "from-file", 5, new Date()))}---\n${stringify(bad)}`,
    );
    // The cluster's own exception is not read: the file's stands instead.
    // (The command judges expiry against the real clock.)
    const source = new FakeSource(objects(webException("apps", "in-cluster")));
    const io = stringIO();
    const code = await runAuditCommand(
      {
        format: "json",
        writeReports: false,
        maxResults: 200,
        pageSize: 500,
        strict: false,
        exceptions: [file],
      },
      io,
      {
        connect: () => ({ source, reports: new FakeReportApi() }),
        loadPolicies: () => policiesOf(["privileged"]),
      },
    );
    expect(code).toBe(0);
    expect(io.err.trimEnd().split("\n")).toEqual([
      expect.stringMatching(
        /^tollgate: ignored .*exceptions\.yaml: document 2: PolicyException apps\/bad: spec\.reason: /,
      ),
    ]);
    const doc = JSON.parse(io.out);
    expect(doc.findings.filter((f: AuditFinding) => f.policy === "privileged")).toEqual([
      expect.objectContaining({
        result: "skip",
        exception: expect.objectContaining({ name: "from-file", expiresSoon: true }),
      }),
    ]);
    expect(doc.exceptions).toEqual([
      expect.objectContaining({
        namespace: "apps",
        name: "from-file",
        findings: 1,
        expiresSoon: true,
      }),
    ]);
    expect(doc.summary.excepted).toBe(1);
  });
});
