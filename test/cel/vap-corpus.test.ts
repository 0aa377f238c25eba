// The differential corpus of test/e2e/vap/, offline: every case gets the
// outcome it was written for. The e2e test proves the API server agrees.
import { describe, expect, it } from "vitest";
import { registry } from "../../policies/index.js";
import type { JsonReport } from "../../src/render/test-json.js";
import { tollgate, workspace } from "../cli/support.js";
import {
  CORPUS_CASES,
  CORPUS_POLICIES,
  caseName,
  corpusDocuments,
  expectationOf,
  policiesOffConfig,
} from "../e2e/support/vap-corpus.js";

const cases = corpusDocuments(CORPUS_CASES);
const policies = corpusDocuments(CORPUS_POLICIES);

describe("the ValidatingAdmissionPolicy corpus, offline", () => {
  it("has at least 25 policies, each with a binding, and cases of every outcome", () => {
    const names = policies
      .filter((o) => o.kind === "ValidatingAdmissionPolicy")
      .map((o) => o.metadata?.name);
    const bound = policies
      .filter((o) => o.kind === "ValidatingAdmissionPolicyBinding")
      .map((o) => (o.spec as { policyName: string }).policyName);
    expect(names.length).toBeGreaterThanOrEqual(25);
    expect(new Set(bound)).toEqual(new Set(names));
    const outcomes = cases.map(expectationOf);
    for (const outcome of ["admit", "warn", "deny"] as const) expect(outcomes).toContain(outcome);
  });

  it("gives every case the outcome it was written for", async () => {
    const dir = workspace({ "off.yaml": policiesOffConfig(registry.modules.map((m) => m.id)) });
    const run = await tollgate([
      "test",
      "-c",
      `${dir}/off.yaml`,
      "--policies",
      CORPUS_POLICIES,
      "-o",
      "json",
      CORPUS_CASES,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const results = (JSON.parse(run.stdout) as JsonReport).results;
    const got = results.map((r, i) => {
      const outcome = !r.allowed ? "deny" : r.warnings.length > 0 ? "warn" : "admit";
      return `${caseName(cases[i] ?? {})}: ${outcome}`;
    });
    expect(got).toEqual(cases.map((c) => `${caseName(c)}: ${expectationOf(c)}`));
  });
});
