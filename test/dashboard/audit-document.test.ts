import { beforeAll, describe, expect, it } from "vitest";
import {
  AuditDocumentError,
  parseAuditDocument,
  readAuditDocument,
} from "../../src/dashboard/audit-document.js";
import { auditJson, HOSTILE, sampleCluster } from "./fixtures.js";

let text: string;
let doc: Record<string, unknown> & { findings: Record<string, unknown>[] };

beforeAll(async () => {
  text = await auditJson(sampleCluster());
  doc = JSON.parse(text);
});

describe("readAuditDocument", () => {
  it("reads a real audit document: score, namespaces, checks and every finding", () => {
    const view = parseAuditDocument(text, "audit.json");
    const score = doc.score as { percent: number; sections: unknown[]; items: unknown[] };
    expect(view.score.percent).toBe(score.percent);
    expect(view.score.sections).toEqual(score.sections);
    expect(view.score.items).toHaveLength(score.items.length);
    expect(view.namespaces.map((n) => n.namespace)).toEqual(["default", "payments", "shop"]);
    expect(view.findings).toHaveLength(doc.findings.length);
    expect(view.checks.length).toBeGreaterThan(0);
    expect(view.exceptions).toBeUndefined();
    const hostile = view.findings.find((f) => f.name === HOSTILE);
    expect(hostile).toMatchObject({ kind: "Deployment", namespace: "payments" });
  });

  it("splits each message's advice into the fix, and falls back to a mutation's patch", () => {
    const view = parseAuditDocument(text, "audit.json");
    const resources = view.findings.find((f) => f.policy === "resources");
    expect(resources?.fix).toMatch(/^set resources\./);
    expect(resources?.message.endsWith(resources.fix)).toBe(true);
    const withPatch = readAuditDocument(
      {
        ...doc,
        findings: [
          {
            ...doc.findings[0],
            message: "no semicolon here",
            patch: [{ op: "add", path: "/spec/x", value: false }],
          },
        ],
      },
      "x.json",
    );
    expect(withPatch.findings[0]?.fix).toBe('apply [{"op":"add","path":"/spec/x","value":false}]');
  });

  it("files a Namespace's own findings under it and cluster-scoped ones under no namespace", () => {
    const view = parseAuditDocument(text, "audit.json");
    const cluster = doc.findings.filter((f) => f.scope === "cluster");
    expect(view.findings.filter((f) => f.namespace === undefined)).toHaveLength(cluster.length);
    const quota = view.findings.find((f) => f.policy === "namespace-resource-quota");
    expect(quota).toMatchObject({ kind: "Namespace", name: "default", namespace: "default" });
  });

  it("reads exceptions when the audit reports them", () => {
    const view = readAuditDocument(
      {
        ...doc,
        exceptions: [{ name: "legacy", namespace: "shop", expires: "2030-01-01T00:00:00Z" }],
        findings: [{ ...doc.findings[0], exception: "legacy" }],
      },
      "x.json",
    );
    expect(view.exceptions).toEqual([
      { name: "legacy", namespace: "shop", expires: "2030-01-01T00:00:00Z" },
    ]);
    expect(view.findings[0]?.exception).toBe("legacy");
  });

  it("gathers the exceptions that cover findings when the audit has no list of them", () => {
    const ref = {
      namespace: "shop",
      name: "legacy",
      expires: "2030-01-01T00:00:00Z",
      reason: "migrating",
    };
    const [a, b, c] = doc.findings;
    const view = readAuditDocument(
      {
        ...doc,
        findings: [
          { ...a, policy: "privileged", exception: ref },
          { ...b, policy: "host-path", exception: ref },
          c,
        ],
      },
      "x.json",
    );
    expect(view.exceptions).toEqual([
      { ...ref, policies: ["host-path", "privileged"], findings: 2 },
    ]);
    expect(view.findings.map((f) => f.exception)).toEqual([
      "shop/legacy",
      "shop/legacy",
      undefined,
    ]);
  });

  it("names the file and the field that is wrong", () => {
    const bad = { ...doc, score: { ...(doc.score as object), percent: "high" } };
    expect(() => readAuditDocument(bad, "ci/audit.json")).toThrow(
      /^ci\/audit\.json: not a tollgate audit JSON document .*score\.percent: /,
    );
    expect(() => parseAuditDocument("{", "ci/audit.json")).toThrow(
      /^ci\/audit\.json: not valid JSON: /,
    );
    expect(() => readAuditDocument({ kind: "PolicyReport" }, "r.json")).toThrow(AuditDocumentError);
  });

  it("refuses an audit that failed midway, with its error", () => {
    const failed = {
      kind: "AuditResult",
      server: "s",
      policySet: "p",
      startedAt: "t",
      findings: [],
      error: "cannot list pods: forbidden",
      exitCode: 2,
    };
    expect(() => readAuditDocument(failed, "a.json")).toThrow(
      "a.json: the audit did not finish: cannot list pods: forbidden",
    );
  });
});
