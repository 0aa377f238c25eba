import { describe, expect, it } from "vitest";
import { itemKey } from "../../src/audit/reach.js";
import { AuditTally, importance, TopN } from "../../src/audit/tally.js";
import type { AuditAction, AuditFinding } from "../../src/audit/types.js";
import type { Severity } from "../../src/engine/index.js";

let n = 0;
function finding(action: AuditAction, severity: Severity = "medium"): AuditFinding {
  return {
    source: "policy",
    policy: `p-${action}`,
    title: "t",
    checklist: { section: "Windows", item: "Don't use privileged containers" },
    severity,
    action,
    result: action === "deny" || action === "report" ? "fail" : "warn",
    message: `finding ${++n}`,
    scope: "namespace",
  };
}

describe("TopN", () => {
  it("keeps the most important values and reports what it dropped", () => {
    const top = new TopN<number>(3);
    for (const v of [5, 1, 9, 3, 7, 2]) top.offer(v, v);
    expect(top.values().sort((a, b) => a - b)).toEqual([5, 7, 9]);
    expect(top.offer(4, 4).dropped).toBe(4);
    expect(top.offer(8, 8).dropped).toBe(5);
  });

  it("keeps the earlier value on ties", () => {
    const top = new TopN<string>(2);
    top.offer("a", 1);
    top.offer("b", 1);
    expect(top.offer("c", 1).dropped).toBe("c");
    expect(top.values().sort()).toEqual(["a", "b"]);
  });
});

describe("AuditTally", () => {
  it("ranks deny over cluster checks over warnings over patches, then by severity", () => {
    expect(importance(finding("deny", "low"))).toBeGreaterThan(
      importance(finding("report", "critical")),
    );
    expect(importance(finding("report"))).toBeGreaterThan(importance(finding("warn")));
    expect(importance(finding("audit"))).toBeGreaterThan(importance(finding("patch")));
    expect(importance(finding("warn", "high"))).toBeGreaterThan(importance(finding("warn", "low")));
  });

  it("keeps at most maxResults per bucket, the most important ones, and counts everything", () => {
    const tally = new AuditTally({ maxResults: 2, maxRetained: 100, examplesPerItem: 1 });
    tally.add("a", finding("patch"));
    tally.add("a", finding("warn"));
    tally.add("a", finding("deny"));
    tally.add("a", finding("audit"));
    tally.add("b", finding("warn"));
    const a = tally.bucket("a");
    expect(a.kept.map((f) => f.action).sort()).toEqual(["deny", "warn"]);
    expect(a.omitted).toBe(2);
    expect(a.counts).toEqual({ pass: 0, fail: 1, warn: 3, error: 0, skip: 0 });
    expect(tally.totals).toMatchObject({ deny: 1, warn: 2, audit: 1, patch: 1 });
    expect(tally.omitted).toBe(2);
    expect(tally.retained).toBe(3);
    const [item] = tally.items.values();
    expect(item?.examples.map((f) => f.action)).toEqual(["deny"]);
  });

  it("stops keeping new findings once the global budget is spent, but still counts them", () => {
    const tally = new AuditTally({ maxResults: 10, maxRetained: 3, examplesPerItem: 3 });
    for (const ns of ["a", "b", "c", "d"]) tally.add(ns, finding("warn"));
    expect(tally.retained).toBe(3);
    expect(tally.bucket("d").kept).toEqual([]);
    expect(tally.bucket("d").omitted).toBe(1);
    expect(tally.bucket("d").counts.warn).toBe(1);
    // A full budget still lets a more important finding replace a lesser one in its bucket.
    tally.add("a", finding("deny"));
    expect(tally.bucket("a").kept.map((f) => f.action)).toEqual(["deny"]);
    expect(tally.retained).toBe(3);
  });

  it("counts passes per bucket, rule and item", () => {
    const tally = new AuditTally();
    const ref = { section: "Windows", item: "Don't use privileged containers" };
    tally.pass("a", { id: "privileged", source: "policy" }, [ref]);
    tally.pass("a", { id: "privileged", source: "policy" }, [ref]);
    expect(tally.bucket("a").counts.pass).toBe(2);
    expect(tally.rules.get("privileged")).toMatchObject({ passes: 2, findings: 0 });
    expect([...tally.items.values()][0]?.checked).toBe(2);
  });

  it("counts a pass of a policy of several items once per item, and an item judged clean", () => {
    const tally = new AuditTally();
    const liveness = { section: "Development", item: "Implement a proper Liveness probe" };
    const readiness = { section: "Development", item: "Implement a proper Readiness probe" };
    tally.pass("a", { id: "probes", source: "policy" }, [liveness, readiness]);
    tally.judged(readiness);
    expect(tally.bucket("a").counts.pass).toBe(1);
    expect(tally.rules.get("probes")?.passes).toBe(1);
    expect(tally.items.get(itemKey(liveness))?.checked).toBe(1);
    expect(tally.items.get(itemKey(readiness))?.checked).toBe(2);
  });
});
