import { describe, expect, it } from "vitest";
import { ITEM_REACH, itemKey, reachOf } from "../../src/audit/reach.js";
import { scoreChecklist } from "../../src/audit/score.js";
import { AuditTally } from "../../src/audit/tally.js";
import type { AuditFinding } from "../../src/audit/types.js";
import { CHECKLIST } from "../../src/engine/index.js";
import { ALL_CHECKS, CHECKS } from "../support/checks.js";
import { shippedPolicies } from "../support/policies.js";

const PRIVILEGED = { section: "Windows", item: "Don't use privileged containers" };
const PROBES = { section: "Development", item: "Implement a proper Liveness probe" };

function finding(over: Partial<AuditFinding> = {}): AuditFinding {
  return {
    source: "policy",
    policy: "privileged",
    title: "t",
    checklist: PRIVILEGED,
    severity: "critical",
    action: "deny",
    result: "fail",
    message: "m",
    scope: "namespace",
    ...over,
  };
}

describe("the reach table", () => {
  it("classifies exactly the items of the checklist", () => {
    const classified = Object.entries(ITEM_REACH).flatMap(([s, items]) =>
      Object.keys(items).map((i) => itemKey({ section: s, item: i })),
    );
    const catalogue = Object.entries(CHECKLIST).flatMap(([s, items]) =>
      items.map((i) => itemKey({ section: s, item: i })),
    );
    expect(new Set(classified)).toEqual(new Set(catalogue));
  });

  it("marks every item a cluster check covers as visible through the API", () => {
    for (const check of ALL_CHECKS) {
      expect(ITEM_REACH[check.checklist.section]?.[check.checklist.item], check.id).toBe("api");
    }
  });

  it("names the policies and checks that cover an item", () => {
    const reach = reachOf([{ id: "privileged", checklist: PRIVILEGED }], ALL_CHECKS);
    const privileged = reach.find((r) => r.item === PRIVILEGED.item);
    expect(privileged).toMatchObject({
      policies: ["privileged"],
      checks: [],
      outOfReach: undefined,
    });
    const quota = reach.find((r) => r.item === "Enforce resource quotas");
    expect(quota?.checks).toEqual([CHECKS.resourceQuota.id]);
    const aad = reach.find((r) => r.item === "AAD Integration");
    expect(aad?.outOfReach).toBe("azure");
    const probes = reach.find((r) => r.item === PROBES.item);
    expect(probes?.outOfReach).toBe("api");
  });
});

describe("scoreChecklist", () => {
  // The three policies after the first two judge what were the audit's own
  // object checks: they bring the items in reach the same way.
  const reach = reachOf(
    [
      { id: "privileged", checklist: PRIVILEGED },
      { id: "probes", checklist: PROBES },
      ...shippedPolicies()
        .filter((p) =>
          ["kubernetes-dashboard", "default-namespace", "internal-load-balancer"].includes(
            p.declaration.id,
          ),
        )
        .map((p) => ({ id: p.declaration.id, checklist: p.declaration.checklist })),
    ],
    ALL_CHECKS,
  );

  it("fails items with findings, passes covered ones without, and counts per section", () => {
    const tally = new AuditTally();
    tally.add("a", finding());
    tally.add("a", finding());
    tally.pass("a", { id: "probes", source: "policy" }, PROBES);
    const score = scoreChecklist(reach, tally.items);
    const privileged = score.items.find((i) => i.item === PRIVILEGED.item);
    expect(privileged).toMatchObject({ status: "fail", findings: 2, checked: 2 });
    expect(privileged?.byAction.deny).toBe(2);
    expect(score.items.find((i) => i.item === PROBES.item)).toMatchObject({
      status: "pass",
      checked: 1,
    });
    const windows = score.sections.find((s) => s.section === "Windows");
    expect(windows).toEqual({ section: "Windows", pass: 0, fail: 1, outOfReach: 7 });
    // 5 policies + 5 checks cover 10 items; one fails.
    expect(score.inReach).toBe(10);
    expect(score.failed).toBe(1);
    expect(score.passed).toBe(9);
    expect(score.percent).toBe(90);
    expect(score.inReach + score.outOfReach).toBe(Object.values(CHECKLIST).flat().length);
  });

  it("puts an item only an unknown check covers out of reach, with its reason", () => {
    const unknown = new Map([[CHECKS.version.id, "the server version could not be read"]]);
    const score = scoreChecklist(reach, new AuditTally().items, unknown);
    const version = score.items.find((i) => i.item === CHECKS.version.checklist.item);
    expect(version).toMatchObject({
      status: "out-of-reach",
      reason: "the server version could not be read",
    });
  });

  it("explains why uncovered items are out of reach", () => {
    const score = scoreChecklist(reachOf([], []), new AuditTally().items);
    expect(score.inReach).toBe(0);
    expect(score.percent).toBe(0);
    expect(score.items.find((i) => i.item === "Private cluster")?.reason).toContain("Azure");
    expect(score.items.find((i) => i.item === "Use GitOps")?.reason).toContain("practice");
    expect(score.items.find((i) => i.item === PROBES.item)?.reason).toContain(
      "no enabled policy or check",
    );
  });
});
