import { describe, expect, it } from "vitest";
import { objectsIn } from "../../src/cli/inputs.js";
import { Tally } from "../../src/cli/report.js";
import { evaluate, inputFromObject } from "../../src/engine/index.js";
import { jsonReporter } from "../../src/render/test-json.js";
import { defaultSet } from "../support/policies.js";
import { privilegedPod } from "./support.js";

// Memory stays flat on large inputs because nothing holds more than one
// document: checked here by counting, the figures are in npm run bench.

const DOCUMENTS = 2_000;

/** The documents of a stream as chunks, counting how many were pulled. */
function countedChunks() {
  let pulled = 0;
  const chunks = (async function* () {
    for (let i = 0; i < DOCUMENTS; i++) {
      pulled++;
      yield `${i === 0 ? "" : "---\n"}${privilegedPod(`p${i}`)}`;
    }
  })();
  return { chunks, pulled: () => pulled };
}

describe("streamed inputs", () => {
  it("reads at most one document ahead of the object being evaluated", async () => {
    const { chunks, pulled } = countedChunks();
    const file = { name: "big.yaml", path: "big.yaml", own: true };
    let seen = 0;
    let mostAhead = 0;
    for await (const object of objectsIn(file, [], chunks)) {
      seen++;
      expect(object.document).toBe(seen);
      mostAhead = Math.max(mostAhead, pulled() - seen);
    }
    expect(seen).toBe(DOCUMENTS);
    // A document is known to be complete when the next one starts.
    expect(mostAhead).toBeLessThanOrEqual(1);
  });

  it("writes each JSON result as it comes, keeping only counts", () => {
    const writes: string[] = [];
    const reporter = jsonReporter({
      write: (text) => writes.push(text),
      color: false,
      quiet: false,
      policies: [],
      version: "0",
    });
    const tally = new Tally();
    const set = defaultSet();
    const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "a" } };
    for (let i = 0; i < 100; i++) {
      const result = {
        resource: { apiVersion: "v1", kind: "ConfigMap", namespace: "a", name: `c${i}` },
        source: { file: "f", document: i + 1, item: undefined, template: undefined },
        verdict: evaluate(inputFromObject(object), set, { mode: "enforce", phase: "both" }),
      };
      const before = writes.length;
      reporter.add(result);
      tally.add(result);
      expect(writes.length).toBe(before + 1);
    }
    reporter.end([], tally.summary);
    const report = JSON.parse(writes.join("")) as { results: unknown[]; summary: unknown };
    expect(report.results).toHaveLength(100);
    expect(report.summary).toMatchObject({ resources: 100 });
  });
});
