// What the audit keeps while it runs, counted (not timed): a listed page
// must not hold the objects the audit has already passed on, and each
// cluster check's facts are let go of once judged.
import { describe, expect, it } from "vitest";
import { AuditLedger } from "../../src/audit/ledger.js";
import { runAudit } from "../../src/audit/run.js";
import { DEFAULT_LIMITS } from "../../src/audit/tally.js";
import type { ListPage } from "../../src/audit/types.js";
import type { KubeObject } from "../../src/engine/index.js";
import { deployment, FakeSource, namespace, policiesOf } from "./fakes.js";

/** A source that remembers every page it handed out. */
class RecordingSource extends FakeSource {
  readonly pages: ListPage[] = [];

  override async *list(
    kind: string,
    namespace: string | undefined,
    pageSize: number,
  ): AsyncIterable<ListPage> {
    for await (const page of super.list(kind, namespace, pageSize)) {
      this.pages.push(page);
      yield page;
    }
  }
}

/** Objects of `kind` a page still holds. */
function held(pages: readonly ListPage[], kind: string): number {
  return pages.flatMap((p) => p.items).filter((o) => o.kind === kind).length;
}

const objects: KubeObject[] = [
  namespace("shop"),
  ...Array.from({ length: 25 }, (_, i) => deployment("shop", `web-${i}`, { replicas: 2 })),
];

describe("what the audit retains", () => {
  it("empties each page slot as its object is passed on", async () => {
    const source = new RecordingSource(objects);
    // While object k of a page is judged, the page holds only those after it.
    const stillHeld: number[] = [];
    await runAudit(source, {
      policies: policiesOf(["privileged", "service-account-token"]),
      pageSize: 10,
      onFinding: (finding) => {
        if (finding.source !== "policy") return;
        const page = source.pages.at(-1) as ListPage;
        stillHeld.push(page.items.filter((o) => o.kind === "Deployment").length);
      },
    });
    expect(source.pages.filter((p) => p.items.length > 0).length).toBeGreaterThanOrEqual(4);
    expect(held(source.pages, "Deployment")).toBe(0);
    expect(held(source.pages, "Namespace")).toBe(0);
    // Pages of 10, 10 and 5 Deployments: the judged one is already gone.
    expect(Math.max(...stillHeld)).toBe(9);
    expect(stillHeld).toContain(0);
  });

  it("hands a check's facts over once and forgets them", () => {
    const ledger = new AuditLedger(DEFAULT_LIMITS);
    const listed = {
      object: objects[1] as KubeObject,
      kind: "Deployment",
      ref: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web-0" },
      home: "shop",
      exempt: false,
      deleting: false,
      owner: undefined,
    };
    const fact = { labels: { app: "web-0" }, replicas: 2 };
    ledger.recordObject(listed, {
      disposition: "evaluated",
      bucket: "shop",
      facts: [
        {
          check: "pod-disruption-budget",
          observation: { namespace: "shop", subject: listed.ref, fact },
        },
      ],
      passes: [],
      findings: [],
      judged: [],
      denied: false,
    });
    expect(ledger.facts.get("pod-disruption-budget")).toHaveLength(1);
    expect(ledger.takeFacts("pod-disruption-budget").map((o) => o.fact)).toEqual([fact]);
    expect(ledger.facts.size).toBe(0);
    expect(ledger.takeFacts("pod-disruption-budget")).toEqual([]);
  });
});
