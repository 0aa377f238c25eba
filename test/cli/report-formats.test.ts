import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import draft04 from "ajv-draft-04";
import formats from "ajv-formats";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type * as Sarif from "sarif";
import { describe, expect, it } from "vitest";
import { artifactUri } from "../../src/cli/formats/sarif.js";
import type { JsonReport } from "../../src/render/test-json.js";
import { shippedPolicies } from "../support/policies.js";
import { privilegedPod, tollgate, workspace } from "./support.js";

// The OASIS SARIF 2.1.0 schema (errata 01, JSON Schema draft-04), vendored
// from the specification's repository (Schemata/sarif-schema-2.1.0.json).
const schema = JSON.parse(
  readFileSync(new URL("fixtures/sarif-schema-2.1.0.json", import.meta.url), "utf8"),
) as object;
// Both packages are CommonJS whose types describe `default`; at run time it is there too.
const ajv = new draft04.default({ allErrors: true, strict: false });
formats.default(ajv);
const validateSarif = ajv.compile(schema);

function expectValidSarif(text: string): Sarif.Log {
  const log = JSON.parse(text) as Sarif.Log;
  const valid = validateSarif(log);
  expect(validateSarif.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
  return log;
}

const configMap =
  "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: apps }\n";
const bomb = `apiVersion: v1
kind: ConfigMap
metadata: { name: bomb, namespace: apps }
data:
  a: &a [x, x, x, x, x, x, x, x, x, x]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
`;

describe("--format json", () => {
  it("lists input problems in the document, which stays valid JSON", async () => {
    const dir = workspace({ "bomb.yaml": bomb, "pod.yaml": privilegedPod("p") });
    const run = await tollgate(["test", "-o", "json", dir]);
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.results.map((r) => r.resource.name)).toEqual(["p"]);
    expect(report.errors).toEqual([
      {
        file: join(dir, "bomb.yaml"),
        document: 1,
        line: expect.any(Number),
        message: expect.stringContaining("alias bomb"),
      },
    ]);
    expect(report.summary).toEqual({ resources: 1, denied: 1, warned: 0, patched: 1, errors: 1 });
    expect(run.stderr).toContain("alias bomb");
  });

  it("is a complete document even when the run stops before any input is read", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("p") });
    const config = join(dir, "policyset.yaml");
    writeFileSync(config, "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\npolicies: 3\n");
    for (const args of [
      ["-c", config],
      ["--policy", "no-such-policy"],
    ]) {
      const run = await tollgate(["test", "-o", "json", ...args, join(dir, "pod.yaml")]);
      expect(run.code).toBe(2);
      const report = JSON.parse(run.stdout) as JsonReport;
      expect(report.results).toEqual([]);
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]?.message).toBe(run.stderr.replace(/^tollgate: /, "").trimEnd());
    }
  });

  it("is a complete document when there are no results", async () => {
    const dir = workspace({ "empty.yaml": "---\n" });
    const run = await tollgate(["test", "-o", "json", join(dir, "empty.yaml")]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      results: [],
      errors: [],
      summary: { resources: 0, denied: 0, warned: 0, patched: 0, errors: 0 },
    });
  });
});

describe("--format sarif", () => {
  it("is valid SARIF 2.1.0 with a rule per policy and results at the field's line", async () => {
    const pod = privilegedPod("p");
    const dir = workspace({ "pods.yaml": `${configMap}---\n${pod}`, "bomb.yaml": bomb });
    const file = join(dir, "pods.yaml");
    const run = await tollgate(["test", "-o", "sarif", dir]);
    expect(run.code).toBe(2);
    const log = expectValidSarif(run.stdout);
    const [sarifRun] = log.runs;
    const rules = sarifRun?.tool.driver.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual(shippedPolicies().map((p) => p.declaration.id));
    for (const r of rules) {
      expect(r.help?.text).toBeTruthy();
      expect(r.shortDescription?.text).toBeTruthy();
    }

    const privileged = sarifRun?.results?.find((r) => r.ruleId === "privileged");
    expect(privileged?.level).toBe("error");
    expect(rules[privileged?.ruleIndex ?? -1]?.id).toBe("privileged");
    const physical = privileged?.locations?.[0]?.physicalLocation;
    expect(physical?.artifactLocation?.uri).toBe(artifactUri(file));
    // The ConfigMap and its separator take 4 lines; `privileged: true` is line 11 of the pod.
    const podLines = pod.split("\n");
    const line = 4 + podLines.findIndex((l) => l.includes("privileged: true")) + 1;
    expect(physical?.region?.startLine).toBe(line);
    expect(readFileSync(file, "utf8").split("\n")[line - 1]).toContain("privileged: true");

    const invocation = sarifRun?.invocations?.[0];
    expect(invocation?.executionSuccessful).toBe(false);
    expect(invocation?.toolExecutionNotifications?.[0]?.message.text).toContain("alias bomb");
  });

  it("locates a field the object lacks at its nearest parent, and stdin by resource only", async () => {
    const run = await tollgate(["test", "-o", "sarif", "-"], { stdin: privilegedPod("p") });
    const log = expectValidSarif(run.stdout);
    const result = log.runs[0]?.results?.[0];
    expect(result?.locations?.[0]?.physicalLocation).toBeUndefined();
    expect(result?.locations?.[0]?.logicalLocations?.[0]?.fullyQualifiedName).toMatch(
      /^Pod apps\/p: /,
    );

    const dir = workspace({ "pod.yaml": privilegedPod("p") });
    const file = await tollgate(["test", "-o", "sarif", join(dir, "pod.yaml")]);
    const memory = expectValidSarif(file.stdout).runs[0]?.results?.find(
      (r) => r.ruleId === "resources",
    );
    // resources.limits.memory is missing: the container's `- name: app` line (8) is its parent.
    expect(memory?.locations?.[0]?.physicalLocation?.region?.startLine).toBe(8);
  });

  it("writes relative paths as relative URI references", () => {
    expect(artifactUri("k8s/my app.yaml")).toBe("k8s/my%20app.yaml");
    expect(artifactUri("/abs/a.yaml")).toBe("file:///abs/a.yaml");
  });
});

describe("--format junit", () => {
  it("is well-formed JUnit XML: a suite per file, a failed case per denied object, input errors", async () => {
    const dir = workspace({
      "a.yaml": `${configMap}---\n${privilegedPod("p")}`,
      "bomb.yaml": bomb,
    });
    const run = await tollgate(["test", "-o", "junit", dir]);
    expect(run.code).toBe(2);
    expect(XMLValidator.validate(run.stdout)).toBe(true);
    const xml = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "testsuite" });
    const doc = xml.parse(run.stdout) as {
      testsuites: {
        "@_tests": string;
        "@_failures": string;
        "@_errors": string;
        testsuite: { "@_name": string; testcase: unknown }[];
      };
    };
    expect(doc.testsuites["@_tests"]).toBe("3");
    expect(doc.testsuites["@_failures"]).toBe("1");
    expect(doc.testsuites["@_errors"]).toBe("1");
    expect(doc.testsuites.testsuite.map((s) => s["@_name"])).toEqual([
      join(dir, "a.yaml"),
      join(dir, "bomb.yaml"),
    ]);
    expect(run.stdout).toContain('name="Pod apps/p (document 2)"');
    expect(run.stdout).toMatch(/<failure message="[^"]*privileged: Pod &quot;p&quot;/);
  });

  it("with --quiet leaves out objects with nothing to report", async () => {
    const dir = workspace({ "a.yaml": `${configMap}---\n${privilegedPod("p")}` });
    const run = await tollgate(["test", "-o", "junit", "-q", dir]);
    expect(run.stdout).not.toContain("ConfigMap");
    expect(run.stdout).toContain("Pod apps/p");
  });
});
