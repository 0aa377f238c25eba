// Before anything is timed: both engines must decide every benchmark input
// the same way, and match image references against registries the same way.
import { readFileSync, writeFileSync } from "node:fs";
import { evaluate, inputFromObject, parseImage } from "../../../src/engine/index.js";
import { isUnderRegistry } from "../../../src/engine/kit/index.js";
import { admissionReview, type BenchCase, uidOf } from "./fixtures.js";
import { OPA_POLICY_DIR, OPA_QUERY, RUN_DIR } from "./opa.js";
import type { BenchPolicySets } from "./policysets.js";
import { regoParameters } from "./policysets.js";
import { run } from "./processes.js";

export interface EngineVerdicts {
  cases: number;
  registryPairs: number;
  /** case name → allowed, per engine. */
  byCase: Record<
    string,
    { tollgate: boolean; tollgateSeven: boolean; opa: boolean; expect: string }
  >;
}

/** Images and registry entries whose every pairing both engines must judge alike. */
const IMAGES = [
  "nginx",
  "nginx:1.27",
  "library/nginx",
  "docker.io/library/nginx:1.27",
  "index.docker.io/nginx",
  "registry-1.docker.io/library/nginx@sha256:0123",
  "bitnami/redis:7",
  "mcr.microsoft.com/azuredocs/aks-helloworld:v1",
  "MCR.Microsoft.com/oss/nginx",
  "mcr.microsoft.com.evil.example/azuredocs/app",
  "mcr.microsoft.comx/app",
  "contoso.azurecr.io/team/app:1.0",
  "contoso.azurecr.io/team",
  "contoso.azurecr.io/teamx/app",
  "contoso.azurecr.io/team/sub/app@sha256:abc",
  "a.b.azurecr.io/x",
  "azurecr.io/x",
  "a.azurecr.io:5000/x",
  "localhost:5000/app:dev",
  "localhost/app",
  "registry:5000/app",
  " mcr.microsoft.com/padded ",
  "",
  "   ",
];

const ENTRIES = [
  "mcr.microsoft.com",
  "docker.io",
  "docker.io/library",
  "index.docker.io/library/nginx",
  "contoso.azurecr.io/team",
  "contoso.azurecr.io/team/",
  "*.azurecr.io",
  "*.azurecr.io:5000",
  "localhost:5000",
  "registry:5000/app",
];

/** Fails unless test/bench/opa/policy/data.json holds the shipped policies' parameters. */
export function checkRegoParameters(sets: BenchPolicySets): void {
  const file = `${OPA_POLICY_DIR}data.json`;
  const data = JSON.parse(readFileSync(file, "utf8")) as { tollgate?: { params?: unknown } };
  const expected = regoParameters(sets);
  if (JSON.stringify(data.tollgate?.params) !== JSON.stringify(expected)) {
    throw new Error(
      `test/bench/opa/policy/data.json no longer matches the policies' parameters; set tollgate.params to\n${JSON.stringify(expected, null, 2)}`,
    );
  }
}

/**
 * Evaluates every case with Tollgate (whole set and seven checks) in process
 * and with OPA (`opa eval`, one process for all), plus every image × registry
 * pairing, and throws on the first disagreement or unexpected verdict.
 */
export async function checkEngineVerdicts(
  sets: BenchPolicySets,
  cases: readonly BenchCase[],
  opa: string,
): Promise<EngineVerdicts> {
  const reviews: Record<string, unknown> = {};
  for (const c of cases) reviews[c.name] = admissionReview(c.object, uidOf(c.name));
  const pairs = IMAGES.flatMap((image) => ENTRIES.map((entry) => [image, entry] as const));
  const inputFile = `${RUN_DIR}verdict-input.json`;
  writeFileSync(inputFile, JSON.stringify({ cases: reviews, pairs }));
  const query = [
    `cases := {name: r.response.allowed | some name, review in input.cases; r := ${OPA_QUERY} with input as review}`,
    "pairs := [x | some p in input.pairs; x := count([1 | data.tollgate.admission.image_trusted_by(p[0], [p[1]])]) == 1]",
  ].join("; ");
  const { stdout } = await run(opa, [
    "eval",
    "--format",
    "json",
    "--data",
    OPA_POLICY_DIR,
    "--input",
    inputFile,
    query,
  ]);
  const bindings = (
    JSON.parse(stdout) as {
      result?: { bindings: { cases: Record<string, boolean>; pairs: boolean[] } }[];
    }
  ).result?.[0]?.bindings;
  if (!bindings) throw new Error(`opa eval gave no result:\n${stdout.slice(0, 2000)}`);

  const problems: string[] = [];
  pairs.forEach(([image, entry], i) => {
    const ref = parseImage(image);
    const tollgate = ref ? isUnderRegistry(ref, entry) : false;
    if (bindings.pairs[i] !== tollgate) {
      problems.push(
        `registry match of image ${JSON.stringify(image)} against ${JSON.stringify(entry)}: Tollgate ${tollgate}, OPA ${bindings.pairs[i]}`,
      );
    }
  });

  const byCase: EngineVerdicts["byCase"] = {};
  for (const c of cases) {
    const input = inputFromObject(c.object);
    // /mutate cases are judged as the API server would: mutated, then validated.
    const phase = c.endpoint === "mutate" ? "both" : "validate";
    const full = evaluate(input, sets.full.set, { mode: "enforce", phase });
    const seven = evaluate(input, sets.seven.set, { mode: "enforce", phase: "validate" });
    const opaAllowed = bindings.cases[c.name];
    const expected = c.expect !== "denied";
    byCase[c.name] = {
      tollgate: full.allowed,
      tollgateSeven: seven.allowed,
      opa: opaAllowed === true,
      expect: c.expect,
    };
    const got = {
      tollgate: full.allowed,
      "tollgate (seven checks)": seven.allowed,
      opa: opaAllowed,
    };
    for (const [engine, allowed] of Object.entries(got)) {
      if (allowed !== expected) {
        problems.push(
          `${c.name}: ${engine} says ${allowed ? "allowed" : "denied"}, the case expects ${c.expect}`,
        );
      }
    }
    if (c.expect === "patched" && full.patch.length === 0) {
      problems.push(`${c.name}: Tollgate produced no patch`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`the engines disagree; nothing was measured:\n  ${problems.join("\n  ")}`);
  }
  return { cases: cases.length, registryPairs: pairs.length, byCase };
}
