import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicies } from "../../src/policyset/index.js";
import { tollgate, workspace } from "./support.js";

describe("tollgate policies", () => {
  it("lists every policy with its effective action", async () => {
    const run = await tollgate(["policies"]);
    expect(run.code).toBe(0);
    const ids = loadPolicies(undefined).policies.map((p) => p.declaration.id);
    for (const id of ids) expect(run.stdout).toMatch(new RegExp(`^${id} `, "m"));
    expect(run.stdout).toMatch(/^trusted-registry +deny /m);
    expect(run.stdout).toMatch(/^resource-defaults +off /m);
    expect(run.stdout).toMatch(/^service-account-token +mutate /m);
  });

  it("prints a PolicySet file that loads back to the same policy set", async () => {
    const run = await tollgate(["policies", "--format", "yaml"]);
    expect(run.code).toBe(0);
    const file = join(workspace(), "effective.yaml");
    writeFileSync(file, run.stdout);
    const strip = (set: ReturnType<typeof loadPolicies>) =>
      set.policies.map(({ declaration }) => declaration);
    expect(strip(loadPolicies(file))).toEqual(strip(loadPolicies(undefined)));
  });

  it("shows a user's overrides", async () => {
    const dir = workspace({
      "set.yaml": `apiVersion: tollgate.dev/v1alpha1
kind: PolicySet
policies:
  image-tag: { action: deny }
  probes: { enabled: false }
`,
    });
    const run = await tollgate(["policies", "-c", join(dir, "set.yaml")]);
    expect(run.stdout).toMatch(/^image-tag +deny /m);
    expect(run.stdout).toMatch(/^probes +off /m);
  });

  it("lists the PolicySet's CEL policies and writes them back out", async () => {
    const dir = workspace({
      "set.yaml": `apiVersion: tollgate.dev/v1alpha1
kind: PolicySet
policies:
  team-label: { action: warn }
celPolicies:
  - id: team-label
    severity: low
    action: deny
    match: { kinds: [Deployment] }
    validations:
      - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
        message: needs a team label
`,
    });
    const run = await tollgate(["policies", "-c", join(dir, "set.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^team-label +warn +low +Custom \/ team-label$/m);
    const yaml = await tollgate(["policies", "-c", join(dir, "set.yaml"), "-o", "yaml"]);
    const file = join(dir, "effective.yaml");
    writeFileSync(file, yaml.stdout);
    const strip = (set: ReturnType<typeof loadPolicies>) =>
      set.policies.map(({ declaration }) => declaration);
    expect(strip(loadPolicies(file))).toEqual(strip(loadPolicies(join(dir, "set.yaml"))));
  });

  it("fails with the file and field of a bad PolicySet", async () => {
    const dir = workspace({
      "bad.yaml":
        "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\npolicies: { probes: { action: maybe } }\n",
    });
    const run = await tollgate(["policies", "-c", join(dir, "bad.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("bad.yaml: policies.probes.action:");
    expect(run.stderr).not.toContain("    at ");
  });
});

describe("docs/policies.md", () => {
  it("is the current output of tollgate policies --format markdown", async () => {
    const run = await tollgate(["policies", "--format", "markdown"]);
    const file = new URL("../../docs/policies.md", import.meta.url);
    // Regenerate with: npm run -s tollgate -- policies -o markdown > docs/policies.md
    expect(readFileSync(file, "utf8")).toBe(run.stdout);
  });
});
