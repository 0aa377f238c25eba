// Differential proof for `tollgate test` with ValidatingAdmissionPolicies: the
// corpus of test/e2e/vap/ is installed in the real API server, every case is
// applied with --dry-run=server, and the CLI, given the same policies offline,
// must reach the same verdict, the same warnings and the same denial text.
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registry } from "../../policies/index.js";
import type { JsonReport, JsonResult } from "../../src/render/test-json.js";
import { tollgate, workspace } from "../cli/support.js";
import { expectSuccess, kubectl, warningsOf } from "./support/kubectl.js";
import {
  CORPUS_CASES,
  CORPUS_POLICIES,
  caseName,
  corpusDocuments,
  policiesOffConfig,
} from "./support/vap-corpus.js";

const policies = corpusDocuments(CORPUS_POLICIES);
const cases = corpusDocuments(CORPUS_CASES);
const VAP_KINDS = new Set(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
const DENIAL = /ValidatingAdmissionPolicy '[^']+' with binding '[^']+' denied request: .*/;

interface Outcome {
  allowed: boolean;
  /** Only the warnings ValidatingAdmissionPolicies produced. */
  warnings: string[];
  denial: string | undefined;
}

/**
 * `kubectl apply` with the objects as JSON: YAML written by a YAML 1.2 library
 * leaves `off` unquoted, and kubectl's YAML 1.1 reads that as a boolean.
 */
function apply(objects: readonly object[], ...flags: string[]) {
  const list = { apiVersion: "v1", kind: "List", items: objects };
  return kubectl(["apply", "-f", "-", ...flags], { input: JSON.stringify(list) });
}

async function serverOutcome(object: object): Promise<Outcome> {
  const result = await apply([object], "--dry-run=server");
  return {
    allowed: result.code === 0,
    warnings: warningsOf(result)
      .filter((w) => w.includes("ValidatingAdmissionPolicy"))
      .sort(),
    denial: DENIAL.exec(result.stderr)?.[0]?.trimEnd(),
  };
}

function cliOutcome(result: JsonResult): Outcome & { denials: string[] } {
  const decisions = result.admissionPolicies ?? [];
  const denials = decisions
    .filter((d) => d.actions.includes("Deny"))
    .map(
      (d) =>
        `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}' denied request: ${d.message}`,
    );
  return {
    allowed: result.allowed,
    warnings: result.warnings.filter((w) => w.includes("ValidatingAdmissionPolicy")).sort(),
    denial: denials[0],
    denials,
  };
}

beforeAll(async () => {
  // The params' custom resource first, then namespaces and params (the
  // policies would judge them too), then the policies and bindings.
  const crds = policies.filter((o) => o.kind === "CustomResourceDefinition");
  expectSuccess(await apply(crds), "kubectl apply of the corpus CRD");
  for (const crd of crds) {
    const name = `crd/${crd.metadata?.name}`;
    expectSuccess(
      await kubectl(["wait", "--for=condition=Established", "--timeout=60s", name]),
      `waiting for ${name}`,
    );
  }
  const rest = policies.filter((o) => o.kind !== "CustomResourceDefinition");
  const ordered = [
    ...rest.filter((o) => !VAP_KINDS.has(o.kind ?? "")),
    ...rest.filter((o) => VAP_KINDS.has(o.kind ?? "")),
  ];
  expectSuccess(await apply(ordered), "kubectl apply of the VAP corpus");
  // The API server compiles new policies in the background: wait until one
  // case that must be denied is, and one of the last bindings is in force.
  const probes = cases.filter((c) =>
    ["no-team", "vapt-ns-unowned", "empty-unskipped"].includes(c.metadata?.name ?? ""),
  );
  await vi.waitFor(
    async () => {
      for (const probe of probes) expect((await serverOutcome(probe)).allowed).toBe(false);
    },
    { timeout: 60_000, interval: 1000 },
  );
});

afterAll(async () => {
  // The policies go; the namespaces stay (without a namespace controller they
  // would stay Terminating), and nothing outside them is ever matched.
  const names = policies.filter((o) => VAP_KINDS.has(o.kind ?? ""));
  await kubectl(["delete", "-f", "-", "--ignore-not-found", "--wait=false"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: names }),
  });
});

describe("tollgate test agrees with the API server on ValidatingAdmissionPolicies", () => {
  it(`reaches the API server's verdict on all ${cases.length} cases of the corpus`, {
    timeout: 300_000,
  }, async () => {
    const dir = workspace({ "off.yaml": policiesOffConfig(registry.modules.map((m) => m.id)) });
    const config = `${dir}/off.yaml`;
    const run = await tollgate([
      "test",
      "-c",
      config,
      "--policies",
      CORPUS_POLICIES,
      "-o",
      "json",
      CORPUS_CASES,
    ]);
    expect(run.stderr).toBe("");
    const offline = (JSON.parse(run.stdout) as JsonReport).results;
    expect(offline).toHaveLength(cases.length);

    const mismatches: string[] = [];
    for (const [i, object] of cases.entries()) {
      const server = await serverOutcome(object);
      const cli = cliOutcome(offline[i] as JsonResult);
      const same =
        server.allowed === cli.allowed &&
        JSON.stringify(server.warnings) === JSON.stringify(cli.warnings) &&
        (server.denial === undefined
          ? cli.denial === undefined
          : cli.denials.includes(server.denial));
      if (!same) {
        mismatches.push(
          `${caseName(object)}:\n  server ${JSON.stringify(server)}\n  cli    ${JSON.stringify(cli)}`,
        );
      }
    }
    writeFileSync(`${dir}/mismatches.txt`, mismatches.join("\n"));
    expect(mismatches).toEqual([]);
  });
});
