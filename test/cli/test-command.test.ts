import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JsonResult } from "../../src/render/test-json.js";
import { jsonResults, onlyPoliciesConfig, privilegedPod, tollgate, workspace } from "./support.js";

const deploymentWithoutTokenSetting = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: mcr.microsoft.com/web:1.0
`;

const configMap = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: apps }
data: { key: value }
`;

function parseJson(stdout: string): JsonResult[] {
  return jsonResults(stdout);
}

function entry(results: JsonResult[], kind: string, name: string): JsonResult {
  const found = results.find((r) => r.resource.kind === kind && r.resource.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} in ${JSON.stringify(results.map((r) => r.resource))}`);
  return found;
}

describe("tollgate test", () => {
  it("evaluates every document of a multi-document file, mutations before validations", async () => {
    const dir = workspace({
      "app.yaml": [privilegedPod("priv"), deploymentWithoutTokenSetting, configMap].join("---\n"),
    });
    const file = join(dir, "app.yaml");
    const run = await tollgate(["test", "--format", "json", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    const results = parseJson(run.stdout);
    expect(results.map((r) => [r.resource.kind, r.source.document])).toEqual([
      ["Pod", 1],
      ["Deployment", 2],
      ["ConfigMap", 3],
    ]);

    const pod = entry(results, "Pod", "priv");
    expect(pod.allowed).toBe(false);
    expect(pod.source).toEqual({ file, document: 1 });
    expect(pod.violations).toContainEqual(
      expect.objectContaining({
        policy: "privileged",
        action: "deny",
        severity: "critical",
        path: "spec.containers[0].securityContext.privileged",
        container: "app",
      }),
    );

    const deployment = entry(results, "Deployment", "web");
    expect(deployment.patch).toContainEqual({
      op: "add",
      path: "/spec/template/spec/automountServiceAccountToken",
      value: false,
    });
    // Validations see the mutated object: the token setting is not reported.
    expect(deployment.violations.map((v) => v.policy)).not.toContain("service-account-token");
  });

  it("prints a readable report grouped by resource, with a summary line", async () => {
    const dir = workspace({
      "app.yaml": [privilegedPod("priv"), deploymentWithoutTokenSetting].join("---\n"),
    });
    const run = await tollgate(["test", join(dir, "app.yaml")]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^DENIED +Pod apps\/priv +\(.*app\.yaml, document 1\)$/);
    expect(run.stdout).toMatch(/\n {2}deny +privileged +container "app": runs privileged/);
    expect(run.stdout).toContain("at spec.containers[0].securityContext.privileged");
    expect(run.stdout).toMatch(/Deployment apps\/web +\(.*app\.yaml, document 2\)/);
    expect(run.stdout).toMatch(/patch +.*service-account-token.* would apply:/);
    expect(run.stdout).toContain("add /spec/template/spec/automountServiceAccountToken: false");
    expect(lines.at(-2)).toMatch(/^2 resources: [12] denied, \d+ warned, 2 patched$/);
    // No escape codes unless stdout is a terminal.
    expect(run.stdout).not.toContain("\u001b[");
  });

  it("colors the report only when asked to", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("priv") });
    const run = await tollgate(["test", join(dir, "pod.yaml")], { color: true });
    expect(run.stdout).toContain("\u001b[");
  });

  it("reads JSON files", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "from-json", namespace: "apps" },
      spec: {
        containers: [
          { name: "app", image: "mcr.microsoft.com/a:1", securityContext: { privileged: true } },
        ],
      },
    };
    const dir = workspace({ "pod.json": JSON.stringify(pod, null, 2) });
    const run = await tollgate(["test", "-o", "json", join(dir, "pod.json")]);
    expect(run.code).toBe(1);
    const [result] = parseJson(run.stdout);
    expect(result?.source.document).toBe(1);
    expect(result?.violations.map((v) => v.policy)).toContain("privileged");
  });

  it("reads the List objects of kubectl get -o yaml", async () => {
    const list = `apiVersion: v1
kind: List
metadata: { resourceVersion: "" }
items:
  - ${privilegedPod("first").trimEnd().replace(/\n/g, "\n    ")}
  - ${configMap.trimEnd().replace(/\n/g, "\n    ")}
`;
    const dir = workspace({ "list.yaml": list });
    const run = await tollgate(["test", "-o", "json", join(dir, "list.yaml")]);
    const results = parseJson(run.stdout);
    expect(results.map((r) => [r.resource.name, r.source.document, r.source.item])).toEqual([
      ["first", 1, 0],
      ["settings", 1, 1],
    ]);
    expect(entry(results, "Pod", "first").violations.map((v) => v.policy)).toContain("privileged");
    const table = await tollgate(["test", join(dir, "list.yaml")]);
    expect(table.stdout).toContain("list.yaml, document 1, items[0])");
  });

  it("reads helm template output on stdin: # Source comments, empty documents, no namespaces", async () => {
    const helm = `---
# Source: shop/templates/serviceaccount.yaml
---
# Source: shop/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: shop-debug
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/shop:1.0
      securityContext: { privileged: true }
---
# Source: shop/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
`;
    const run = await tollgate(["test", "-o", "json", "--namespace", "shop", "-"], { stdin: helm });
    expect(run.stderr).toBe("");
    const results = parseJson(run.stdout);
    const pod = entry(results, "Pod", "shop-debug");
    expect(pod.source).toEqual({
      file: "<stdin>",
      document: 2,
      template: "shop/templates/pod.yaml",
    });
    expect(pod.resource.namespace).toBe("shop");
    expect(pod.violations.map((v) => v.policy)).toContain("privileged");
    // Cluster-scoped kinds get no namespace.
    expect(entry(results, "Namespace", "shop").resource.namespace).toBeNull();

    const table = await tollgate(["test", "-"], { stdin: helm });
    expect(table.stdout).toContain(
      "Pod shop-debug  (<stdin>, document 2, template shop/templates/pod.yaml)",
    );
  });

  it("reports bad YAML with file and document, and still evaluates the other documents", async () => {
    const dir = workspace({
      "mixed.yaml": `${privilegedPod("before")}---\nkind: Pod\nmetadata: [unclosed\n---\n${configMap}`,
    });
    const file = join(dir, "mixed.yaml");
    const run = await tollgate(["test", "-o", "json", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^tollgate: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: document 2 \\(line \\d+\\): invalid YAML`,
        "m",
      ),
    );
    expect(run.stderr).not.toMatch(/:\n/);
    expect(parseJson(run.stdout).map((r) => r.resource.name)).toEqual(["before", "settings"]);
  });

  it("reports documents without kind or apiVersion, or that are not objects", async () => {
    const dir = workspace({
      "shapes.yaml": `metadata: { name: nokind }\n---\nkind: Pod\nmetadata: { name: noversion }\n---\n- a\n- list\n---\n${configMap}`,
    });
    const file = join(dir, "shapes.yaml");
    const run = await tollgate(["test", file]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    const at = (document: number) => `tollgate: ${file}: document ${document} (line `;
    expect(lines[0]).toMatch(/\(line \d+\): has no kind$/);
    expect(lines[0]?.startsWith(at(1))).toBe(true);
    expect(lines[1]).toMatch(/\(line \d+\): Pod has no apiVersion$/);
    expect(lines[1]?.startsWith(at(2))).toBe(true);
    expect(lines[2]).toMatch(/\(line \d+\): is not an object$/);
    expect(lines[2]?.startsWith(at(3))).toBe(true);
    expect(run.stdout).toContain("ConfigMap apps/settings");
    expect(run.stdout).toMatch(/1 resource: .*; 3 input problems \(see stderr\)/);
  });

  it("lists kinds no policy matches as such and admits them", async () => {
    const dir = workspace({
      "cm.yaml": configMap,
      "crd.yaml":
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w, namespace: apps }\n",
    });
    const config = onlyPoliciesConfig(dir, ["privileged", "service-account-token"]);
    const run = await tollgate(["test", "-c", config, join(dir, "cm.yaml"), join(dir, "crd.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ADMITTED +ConfigMap apps\/settings .*\n +no policy applies/);
    expect(run.stdout).toMatch(/ADMITTED +Widget apps\/w .*\n +no policy applies/);
  });

  it("exits 0 when everything is admitted", async () => {
    // kube-system is always exempt, so even a privileged pod is admitted there.
    const dir = workspace({ "system.yaml": privilegedPod("node-agent", "kube-system") });
    const run = await tollgate(["test", join(dir, "system.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^ADMITTED +Pod kube-system\/node-agent .*\n +namespace kube-system is exempt from every policy\n/,
    );
  });

  it("leaves objects without a namespace unplaced unless --namespace is given", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("p").replace("  namespace: apps\n", "") });
    const file = join(dir, "pod.yaml");
    const unplaced = parseJson((await tollgate(["test", "-o", "json", file])).stdout);
    expect(unplaced[0]?.resource.namespace).toBeNull();
    expect(unplaced[0]?.violations.map((v) => v.policy)).not.toContain("default-namespace");
    const inDefault = parseJson(
      (await tollgate(["test", "-o", "json", "-n", "default", file])).stdout,
    );
    expect(inDefault[0]?.resource.namespace).toBe("default");
    expect(inDefault[0]?.violations.map((v) => v.policy)).toContain("default-namespace");
    const exempt = await tollgate(["test", "-n", "kube-system", file]);
    expect(exempt.code).toBe(0);
  });

  it("walks directories for *.yaml, *.yml and *.json, skipping hidden folders and node_modules", async () => {
    const dir = workspace({
      "b/deep/pod.yml": privilegedPod("yml"),
      "a.yaml": configMap,
      "c.json": JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "json" } }),
      "notes.txt": "not a manifest",
      ".git/config.yaml": "nope: 1",
      "node_modules/pkg/x.yaml": "nope: 1",
    });
    const run = await tollgate(["test", "-o", "json", dir]);
    expect(run.stderr).toBe("");
    expect(parseJson(run.stdout).map((r) => r.source.file)).toEqual([
      join(dir, "a.yaml"),
      join(dir, "b/deep/pod.yml"),
      join(dir, "c.json"),
    ]);
  });

  it("names missing files and empty directories, and still reports the rest", async () => {
    const dir = workspace({ "ok.yaml": configMap, "empty/readme.md": "#" });
    const missing = join(dir, "missing.yaml");
    const run = await tollgate(["test", missing, join(dir, "empty"), join(dir, "ok.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`tollgate: ${missing}: no such file or directory`);
    expect(run.stderr).toContain(`tollgate: ${join(dir, "empty")}: no *.yaml, *.yml, *.json files`);
    expect(run.stdout).toContain("ConfigMap apps/settings");
  });

  it("treats usage and policy set mistakes as errors with exit code 2", async () => {
    const dir = workspace({ "ok.yaml": configMap });
    const file = join(dir, "ok.yaml");

    const noInputs = await tollgate(["test"]);
    expect(noInputs.code).toBe(2);
    expect(noInputs.stderr).toContain("tollgate: missing required argument 'inputs'");

    const badFormat = await tollgate(["test", "--format", "xml", file]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("Allowed choices are table, json, sarif, junit");

    const twoStdins = await tollgate(["test", "-", "-"], { stdin: "" });
    expect(twoStdins.code).toBe(2);
    expect(twoStdins.stderr).toBe("tollgate: - (stdin) can be given only once\n");

    const config = join(dir, "policyset.yaml");
    writeFileSync(
      config,
      "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\npolicies:\n  privileged: { action: block }\n",
    );
    const badConfig = await tollgate(["test", "--config", config, file]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(
      /^tollgate: .*policyset\.yaml: policies\.privileged\.action: /,
    );
    expect(badConfig.stdout).toBe("");
  });

  it("shapes --format json entries exactly as documented", async () => {
    const dir = workspace({ "pod.yaml": privilegedPod("priv") });
    const run = await tollgate(["test", "--format", "json", join(dir, "pod.yaml")]);
    const [result] = parseJson(run.stdout);
    expect(Object.keys(result ?? {})).toEqual([
      "resource",
      "source",
      "allowed",
      "policies",
      "violations",
      "warnings",
      "patch",
    ]);
    expect(result?.resource).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      namespace: "apps",
      name: "priv",
    });
    const violation = result?.violations.find((v) => v.policy === "privileged");
    expect(Object.keys(violation ?? {})).toEqual([
      "policy",
      "title",
      "checklist",
      "severity",
      "action",
      "message",
      "path",
      "container",
    ]);
    expect(violation?.checklist).toEqual({
      section: "Windows",
      item: "Don't use privileged containers",
    });
    expect(violation?.message).toBe(
      'Pod "priv" container "app": runs privileged; remove securityContext.privileged or set it to false',
    );
    for (const op of result?.patch ?? []) expect(["add", "replace", "remove"]).toContain(op.op);
    expect(Array.isArray(result?.warnings)).toBe(true);
  });

  it("says per object what became of each policy, and why a whole object was skipped", async () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: { name: once, namespace: apps }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: run, image: mcr.microsoft.com/run:1.0 }]
`;
    const system = privilegedPod("sys", "kube-system");
    const dir = workspace({
      "all.yaml": [privilegedPod("priv"), job, system, configMap].join("---\n"),
    });
    const config = onlyPoliciesConfig(dir, ["ingress-host", "privileged", "probes"]);
    const run = await tollgate(["test", "-c", config, "--format", "json", join(dir, "all.yaml")]);
    const results = parseJson(run.stdout);
    const status = (r: JsonResult, id: string) => r.policies.find((p) => p.policy === id);

    const pod = entry(results, "Pod", "priv");
    expect(pod.skipped).toBeUndefined();
    expect(status(pod, "privileged")).toEqual({ policy: "privileged", status: "fail" });
    expect(status(pod, "ingress-host")).toEqual({
      policy: "ingress-host",
      status: "skip",
      reason: "kind-not-matched",
    });
    expect(status(pod, "replicas")).toEqual({
      policy: "replicas",
      status: "skip",
      reason: "disabled",
    });
    const ran = new Set(pod.policies.filter((p) => p.status !== "skip").map((p) => p.policy));
    for (const v of pod.violations) expect(ran).toContain(v.policy);

    const once = entry(results, "Job", "once");
    expect(status(once, "probes")).toEqual({
      policy: "probes",
      status: "skip",
      reason: "not-long-running",
    });

    const sys = entry(results, "Pod", "sys");
    expect(sys).toMatchObject({ allowed: true, skipped: "exempt-namespace", policies: [] });
    expect(entry(results, "ConfigMap", "settings")).toMatchObject({
      skipped: "kind-not-matched",
      policies: [],
    });
  });
});

describe("tollgate test with CEL policies of the PolicySet", () => {
  it("denies, passes and reports an error result per resource", async () => {
    const dir = workspace({
      "set.yaml": `apiVersion: tollgate.dev/v1alpha1
kind: PolicySet
defaultMode: enforce
celPolicies:
  - id: team-label
    action: deny
    match: { kinds: [ConfigMap] }
    validations:
      - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
        message: needs a team label
  - id: no-big-data
    action: warn
    match: { kinds: [ConfigMap] }
    validations:
      - expression: "object.data.size < 10"
`,
      "cm.yaml": configMap,
    });
    const run = await tollgate([
      "test",
      "-c",
      join(dir, "set.yaml"),
      "-o",
      "json",
      join(dir, "cm.yaml"),
    ]);
    expect(run.code).toBe(1);
    const [result] = parseJson(run.stdout);
    expect(result?.policies).toEqual(
      expect.arrayContaining([
        { policy: "team-label", status: "fail" },
        { policy: "no-big-data", status: "error" },
      ]),
    );
    const text = await tollgate(["test", "-c", join(dir, "set.yaml"), join(dir, "cm.yaml")]);
    expect(text.stdout).toMatch(/deny +team-label +needs a team label/);
    expect(text.stdout).toMatch(
      /warn +no-big-data +could not be evaluated: expression 'object.data.size < 10' resulted in error/,
    );
  });

  it("gives the Namespace objects among the inputs to namespaceObject", async () => {
    const dir = workspace({
      "set.yaml": `apiVersion: tollgate.dev/v1alpha1
kind: PolicySet
celPolicies:
  - id: team-namespace
    action: deny
    match: { kinds: [ConfigMap] }
    validations:
      - expression: "namespaceObject.metadata.?labels.?team.orValue('') == object.metadata.name"
        messageExpression: "'namespace ' + namespaceObject.metadata.name + ' belongs to another team'"
`,
      "inputs.yaml": `apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: cart } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: cart, namespace: shop }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: search, namespace: shop }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: cart, namespace: elsewhere }
`,
    });
    const run = await tollgate([
      "test",
      "-c",
      join(dir, "set.yaml"),
      "-o",
      "json",
      join(dir, "inputs.yaml"),
    ]);
    const results = parseJson(run.stdout).filter((r) => r.resource.kind === "ConfigMap");
    expect(
      results.map((r) => [
        r.resource.namespace,
        r.resource.name,
        r.violations.map((v) => v.message),
      ]),
    ).toEqual([
      ["shop", "cart", []],
      ["shop", "search", ['ConfigMap "search": namespace shop belongs to another team']],
      // Not among the inputs: a bare Namespace with its name label, as the API server holds it.
      ["elsewhere", "cart", ['ConfigMap "cart": namespace elsewhere belongs to another team']],
    ]);
  });
});
