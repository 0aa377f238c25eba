import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonResults, onlyPoliciesConfig, privilegedPod, tollgate, workspace } from "./support.js";

function exceptionYaml(name: string, namespace: string | undefined, extra = ""): string {
  return `apiVersion: tollgate.dev/v1alpha1
kind: PolicyException
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ""}spec:
  policies: [privileged]
  match: { kinds: [Pod], names: ["debug-*"] }
  reason: "debug pods need privileges"
${extra}`;
}

function setup(exceptions: Record<string, string>) {
  const dir = workspace({
    "pods.yaml": `${privilegedPod("debug-1")}---\n${privilegedPod("web")}`,
    ...Object.fromEntries(Object.entries(exceptions).map(([n, t]) => [`exceptions/${n}`, t])),
  });
  return { dir, config: onlyPoliciesConfig(dir, ["privileged"]) };
}

async function run(dir: string, config: string, ...extra: string[]) {
  return tollgate([
    "test",
    join(dir, "pods.yaml"),
    "-c",
    config,
    "-o",
    "json",
    "--exceptions",
    join(dir, "exceptions"),
    ...extra,
  ]);
}

describe("tollgate test --exceptions", () => {
  it("admits what an exception covers, naming it in the policy's result and the warning", async () => {
    const { dir, config } = setup({ "debug.yaml": exceptionYaml("debug", "apps") });
    const result = await run(dir, config);
    const [debug, web] = jsonResults(result.stdout);
    expect(debug?.allowed).toBe(true);
    expect(debug?.policies).toContainEqual({
      policy: "privileged",
      status: "excepted",
      exceptions: ["apps/debug"],
    });
    expect(debug?.warnings).toContain("privileged: excepted by apps/debug");
    expect(web?.allowed).toBe(false);
    expect(result.code).toBe(1);
  });

  it("does not honour an expired exception or one in another namespace", async () => {
    const { dir, config } = setup({
      "expired.yaml": exceptionYaml("expired", "apps", '  expires: "2020-01-01T00:00:00Z"\n'),
      "elsewhere.yaml": exceptionYaml("elsewhere", "team-b"),
    });
    const [debug] = jsonResults((await run(dir, config)).stdout);
    expect(debug?.allowed).toBe(false);
  });

  it("reports a bad exception with file, document and field (exit 2), and still applies the others", async () => {
    const { dir, config } = setup({
      "all.yaml": `${exceptionYaml("bad", "apps", '  expires: "soon"\n')}---\n${exceptionYaml("debug", "apps")}`,
    });
    const result = await run(dir, config);
    expect(result.code).toBe(2);
    const [debug] = jsonResults(result.stdout);
    expect(debug?.allowed).toBe(true);
    expect(result.stderr).toMatch(
      /all\.yaml.*document 1.*apps\/bad: spec\.expires: must be an RFC 3339 time/,
    );
  });

  it("shows the excepted finding in the table, naming the exception, and a bad file in one stderr line", async () => {
    const { dir, config } = setup({
      "all.yaml": `${exceptionYaml("debug", "apps", '  expires: "2099-01-31T00:00:00Z"\n')}---\n${exceptionYaml("bad", "apps", "  policies: []\n")}`,
    });
    const result = await tollgate([
      "test",
      join(dir, "pods.yaml"),
      "-c",
      config,
      "--exceptions",
      join(dir, "exceptions"),
    ]);
    expect(result.code).toBe(2);
    const table = result.stdout.split("\n");
    const debug = table.findIndex((line) => line.includes("Pod apps/debug-1"));
    const web = table.findIndex((line) => line.includes("Pod apps/web"));
    // Admitted; the exception shows as its warning.
    expect(table[debug]).toMatch(/^WARNED/);
    expect(table.slice(debug, web)).toContainEqual(
      expect.stringMatching(/^ {2}warning privileged: excepted by apps\/debug until 2099-01-31$/),
    );
    expect(table[web]).toMatch(/^DENIED/);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/all\.yaml: document 2: PolicyException apps\/bad: spec\.policies: /),
    ]);
  });

  it("takes the namespace of -n for an exception without one, as kubectl apply -n would", async () => {
    const { dir, config } = setup({ "debug.yaml": exceptionYaml("debug", undefined) });
    const [debug] = jsonResults((await run(dir, config, "-n", "apps")).stdout);
    expect(debug?.allowed).toBe(true);
  });
});
