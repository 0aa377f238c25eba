import { describe, expect, it } from "vitest";
import { ITEM_REACH, itemKey, reachOf } from "../../src/audit/reach.js";
import { NOT_JUDGED_REASON, PARTIAL_WEIGHT, scoreChecklist } from "../../src/audit/score.js";
import { AuditTally } from "../../src/audit/tally.js";
import type { AuditFinding } from "../../src/audit/types.js";
import { CHECKLIST, type ChecklistMapping, coveredItems } from "../../src/engine/index.js";
import { ALL_CHECKS, CHECKS } from "../support/checks.js";
import { shippedPolicies } from "../support/policies.js";

const PRIVILEGED = { section: "Windows", item: "Don't use privileged containers" };
const PROBES = { section: "Development", item: "Implement a proper Liveness probe" };
const READINESS = { section: "Development", item: "Implement a proper Readiness probe" };
const RUNTIME = { section: "Container", item: "Runtime Security of Applications" };

const full = (ref: { section: string; item: string }): ChecklistMapping[] => [
  { ...ref, coverage: "full" },
];

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
    const reach = reachOf([{ id: "privileged", checklist: full(PRIVILEGED) }], ALL_CHECKS);
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

  it("brings the Readiness item in reach by probes, and only while its part is on", () => {
    const probes = shippedPolicies().find((p) => p.declaration.id === "probes")?.declaration;
    if (!probes) throw new Error("no probes policy");
    const itemsOf = (parameters: unknown) =>
      reachOf([{ id: "probes", checklist: coveredItems(probes.checklist, parameters) }], [])
        .filter((r) => r.policies.includes("probes"))
        .map((r) => r.item);
    expect(itemsOf(probes.parameters)).toEqual([PROBES.item, READINESS.item]);
    expect(itemsOf({ liveness: true, readiness: false })).toEqual([PROBES.item]);
    expect(itemsOf({ liveness: false, readiness: true })).toEqual([READINESS.item]);
  });

  it("says an item only partial mappings cover is covered partially", () => {
    const policies = shippedPolicies().map((p) => ({
      id: p.declaration.id,
      checklist: coveredItems(p.declaration.checklist, p.declaration.parameters),
    }));
    const reach = reachOf(policies, ALL_CHECKS);
    const coverage = (item: string) => reach.find((r) => r.item === item)?.coverage;
    expect(coverage(RUNTIME.item)).toBe("partial");
    expect(coverage("Securely connect to nodes through a bastion host")).toBe("partial");
    expect(coverage("Block Pod access to VMSS IMDS")).toBe("partial");
    expect(coverage(PRIVILEGED.item)).toBe("full");
    expect(coverage(READINESS.item)).toBe("full");
    expect(coverage("Enforce resource quotas")).toBe("full");
    expect(coverage("Private cluster")).toBeUndefined();
  });
});

describe("scoreChecklist", () => {
  // The three policies after the first two judge what were the audit's own
  // object checks: they bring the items in reach the same way.
  const reach = reachOf(
    [
      { id: "privileged", checklist: full(PRIVILEGED) },
      { id: "probes", checklist: full(PROBES) },
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

  /** A tally in which every item of `reach` was judged once and passed. */
  function judgedOnce(of: typeof reach): AuditTally {
    const tally = new AuditTally();
    for (const r of of.filter((r) => r.outOfReach === undefined)) {
      tally.pass("a", { id: r.policies[0] ?? r.checks[0] ?? "", source: "policy" }, [r]);
    }
    return tally;
  }

  it("fails items with findings, passes covered ones without, and counts per section", () => {
    const tally = judgedOnce(reach.filter((r) => r.item !== PRIVILEGED.item));
    tally.add("a", finding());
    tally.add("a", finding());
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
    expect(score.ratio).toBe(0.9);
    expect(score.inReach + score.outOfReach).toBe(Object.values(CHECKLIST).flat().length);
  });

  it("scores only items a policy or check judged: one nothing ran on is not a pass", () => {
    const tally = judgedOnce(reach.filter((r) => r.item !== PROBES.item));
    const score = scoreChecklist(reach, tally.items);
    expect(score.items.find((i) => i.item === PROBES.item)).toMatchObject({
      status: "out-of-reach",
      reason: NOT_JUDGED_REASON,
      policies: ["probes"],
      checked: 0,
    });
    expect(score.inReach).toBe(9);
    expect(score.passed).toBe(9);
    // With nothing judged at all, nothing is scored.
    const none = scoreChecklist(reach, new AuditTally().items);
    expect(none).toMatchObject({ inReach: 0, passed: 0, failed: 0, percent: 0 });
  });

  it("weighs an item only partial mappings cover at PARTIAL_WEIGHT", () => {
    const partial: ChecklistMapping[] = [{ ...RUNTIME, coverage: "partial" }];
    const two = reachOf(
      [
        { id: "privileged", checklist: full(PRIVILEGED) },
        { id: "seccomp", checklist: partial },
      ],
      [],
    );
    const passing = judgedOnce(two);
    const failingRuntime = judgedOnce(two.filter((r) => r.item !== RUNTIME.item));
    failingRuntime.add("a", finding({ policy: "seccomp", checklist: RUNTIME }));
    const failingPrivileged = judgedOnce(two.filter((r) => r.item !== PRIVILEGED.item));
    failingPrivileged.add("a", finding());

    expect(scoreChecklist(two, passing.items)).toMatchObject({ ratio: 1, percent: 100 });
    const runtimeFails = scoreChecklist(two, failingRuntime.items);
    expect(runtimeFails).toMatchObject({ passed: 1, failed: 1, inReach: 2 });
    expect(runtimeFails.ratio).toBeCloseTo(1 / (1 + PARTIAL_WEIGHT));
    expect(runtimeFails.items.find((i) => i.item === RUNTIME.item)?.coverage).toBe("partial");
    const privilegedFails = scoreChecklist(two, failingPrivileged.items);
    expect(privilegedFails.ratio).toBeCloseTo(PARTIAL_WEIGHT / (1 + PARTIAL_WEIGHT));
    expect(privilegedFails.percent).toBe(33);
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
