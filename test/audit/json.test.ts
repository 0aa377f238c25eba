import { describe, expect, it } from "vitest";
import { runAudit } from "../../src/audit/run.js";
import { JsonAuditWriter } from "../../src/render/audit-json.js";
import { deployment, FakeSource, policiesOf, tidyNamespace } from "./fakes.js";

describe("JsonAuditWriter", () => {
  it("streams findings as they are found and ends with a valid document", async () => {
    const chunks: string[] = [];
    const writer = new JsonAuditWriter((text) => {
      chunks.push(text);
    });
    const objects = [
      ...tidyNamespace("a"),
      ...Array.from({ length: 30 }, (_, i) => deployment("a", `d${i}`, { privileged: true })),
    ];
    await writer.start({
      endpoint: "https://fake",
      policySet: "test",
      namespaces: undefined,
      maxResults: 5,
      startedAt: new Date(),
    });
    let chunksWhenFirstFound = -1;
    const result = await runAudit(new FakeSource(objects), {
      policies: policiesOf(["privileged"]),
      limits: { maxResults: 5 },
      onFinding: async (f) => {
        if (chunksWhenFirstFound < 0) chunksWhenFirstFound = chunks.length;
        await writer.finding(f);
      },
    });
    const beforeEnd = chunks.length;
    await writer.end(result, { exitCode: 1 });

    // One chunk per finding, written before the end: nothing is buffered.
    expect(chunksWhenFirstFound).toBe(1);
    expect(beforeEnd).toBe(1 + 30);
    const doc = JSON.parse(chunks.join(""));
    expect(doc).toMatchObject({
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "AuditResult",
      server: "https://fake",
      namespaceFilter: null,
      maxResults: 5,
      exitCode: 1,
      reports: null,
    });
    // Every finding is in the stream; the cap only bounds what reports keep.
    expect(doc.findings).toHaveLength(30);
    expect(doc.findings[0]).toMatchObject({
      policy: "privileged",
      action: "deny",
      severity: "critical",
      checklist: { section: "Windows" },
      resource: { kind: "Deployment", namespace: "a" },
    });
    expect(doc.summary.findings.deny).toBe(30);
    expect(doc.summary.omittedFromReports).toBe(25);
    expect(doc.namespaces).toEqual([
      { namespace: "a", pass: 3, fail: 30, warn: 0, error: 0, skip: 0, omitted: 25 },
    ]);
    expect(doc.score.items).toHaveLength(103);
    expect(doc.score.items[0].examples).toBeUndefined();
    // One finding per line, for grep and jq --stream.
    expect(
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.startsWith('    {"source"')),
    ).toHaveLength(30);
  });

  it("closes the document with an error when the audit fails midway", async () => {
    const chunks: string[] = [];
    const writer = new JsonAuditWriter((t) => {
      chunks.push(t);
    });
    await writer.start({
      endpoint: "e",
      policySet: "p",
      namespaces: ["a"],
      maxResults: 1,
      startedAt: new Date(),
    });
    await writer.fail("cannot reach the cluster", 2);
    expect(JSON.parse(chunks.join(""))).toMatchObject({
      findings: [],
      error: "cannot reach the cluster",
      exitCode: 2,
      namespaceFilter: ["a"],
    });
  });

  it("writes nothing on failure when it never started", async () => {
    const chunks: string[] = [];
    await new JsonAuditWriter((t) => {
      chunks.push(t);
    }).fail("x", 2);
    expect(chunks).toEqual([]);
  });
});
