import { readFileSync } from "node:fs";
import { join } from "node:path";
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/manifests/read.js";
import {
  jsonResults,
  objectsIn,
  onlyPoliciesConfig,
  privilegedPod,
  tollgate,
  workspace,
} from "./support.js";

const ANNOTATED = `# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the name
  namespace: apps
  annotations:
    note: "quoted"
spec:
  replicas: 2 # two
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      # containers below
      containers:
      - name: web
        image: "mcr.microsoft.com/web:1.0"
        args:
        - --a-very-long-argument-that-a-yaml-writer-with-a-line-width-of-eighty-would-fold=true
      restartPolicy: Always   # last key
---
# untouched ConfigMap, odd spacing kept
apiVersion: v1
kind: ConfigMap
metadata: {name: settings,   namespace: apps}
data:
  key:    value
`;

describe("tollgate fix", () => {
  it("keeps comments, key order, quoting, flow style and untouched documents", async () => {
    const dir = workspace({ "web.yaml": ANNOTATED });
    const config = onlyPoliciesConfig(dir, ["service-account-token"]);
    const run = await tollgate(["fix", "-c", config, join(dir, "web.yaml")]);
    expect(run.code).toBe(0);
    // The only change: the new field, appended after the existing keys.
    expect(run.stdout).toBe(
      ANNOTATED.replace(
        "      restartPolicy: Always   # last key\n",
        "      restartPolicy: Always   # last key\n      automountServiceAccountToken: false\n",
      ),
    );
    expect(run.stderr).toContain(
      `${join(dir, "web.yaml")}: document 1: patched Deployment apps/web (service-account-token)`,
    );
    expect(run.stderr).toContain("1 of 1 file changed (result on stdout)");
    // Without --write the file itself is untouched.
    expect(readFileSync(join(dir, "web.yaml"), "utf8")).toBe(ANNOTATED);
  });

  it("is idempotent: a second --write run changes nothing", async () => {
    const dir = workspace({
      "app.yaml": `${ANNOTATED}---\n${privilegedPod("priv")}`,
      "list.yaml": `apiVersion: v1\nkind: List\nitems:\n  - ${privilegedPod("in-list").trimEnd().replace(/\n/g, "\n    ")}\n`,
    });
    // The whole default policy set, so that every shipped mutation is covered.
    const first = await tollgate(["fix", "--write", dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("");
    expect(first.stderr).toContain(`wrote ${join(dir, "app.yaml")}`);
    expect(first.stderr).toContain("2 of 2 files rewritten");
    const once = {
      app: readFileSync(join(dir, "app.yaml"), "utf8"),
      list: readFileSync(join(dir, "list.yaml"), "utf8"),
    };
    expect(once.app).toContain("# containers below");

    const second = await tollgate(["fix", "--write", dir]);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain("patched");
    expect(second.stderr).toContain("0 of 2 files rewritten");
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe(once.app);
    expect(readFileSync(join(dir, "list.yaml"), "utf8")).toBe(once.list);

    const check = await tollgate(["test", "-o", "json", dir]);
    for (const result of jsonResults(check.stdout)) expect(result.patch).toEqual([]);
  });

  it("patches the objects inside a List", async () => {
    // Laid out as kubectl prints it: sequences flush with their key.
    const list = `# kubectl get pods -o yaml
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: { name: one, namespace: apps }
  spec:
    automountServiceAccountToken: true # wants its token
    containers:
    - name: a
      image: mcr.microsoft.com/a:1
- apiVersion: v1
  kind: Pod
  metadata: { name: two, namespace: apps }
  spec:
    containers:
    - name: b
      image: mcr.microsoft.com/b:1
metadata:
  resourceVersion: ""
`;
    const dir = workspace({ "list.yaml": list });
    const config = onlyPoliciesConfig(dir, ["service-account-token"]);
    const run = await tollgate(["fix", "-c", config, join(dir, "list.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "document 1 items[1]: patched Pod apps/two (service-account-token)",
    );
    expect(run.stdout).toBe(
      list.replace(
        "      image: mcr.microsoft.com/b:1\n",
        "      image: mcr.microsoft.com/b:1\n    automountServiceAccountToken: false\n",
      ),
    );
  });

  it("writes JSON back as JSON with the same indentation and key order", async () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p", namespace: "apps", annotations: { z: "1", "10": "numeric key" } },
          spec: { containers: [{ name: "c", image: "mcr.microsoft.com/c:1" }] },
        },
      ],
    };
    // JSON.stringify would move the numeric key first; write the source by hand.
    const text = `{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "apps", "annotations": {"z": "1", "10": "numeric key"}},
            "spec": {"containers": [{"name": "c", "image": "mcr.microsoft.com/c:1"}]}
        }
    ]
}
`;
    const dir = workspace({ "pods.json": text });
    const config = onlyPoliciesConfig(dir, ["service-account-token"]);
    const run = await tollgate(["fix", "-c", config, join(dir, "pods.json")]);
    expect(run.code).toBe(0);
    const expected = structuredClone(list) as typeof list & {
      items: { spec: Record<string, unknown> }[];
    };
    (expected.items[0] as { spec: Record<string, unknown> }).spec.automountServiceAccountToken =
      false;
    expect(JSON.parse(run.stdout)).toEqual(expected);
    expect(run.stdout).toContain('\n    "items": [\n        {\n            "apiVersion"');
    expect(run.stdout.indexOf('"z"')).toBeLessThan(run.stdout.indexOf('"10"'));
    expect(run.stdout.endsWith("}\n")).toBe(true);
  });

  it("produces what the JSON Patch of `tollgate test` produces", async () => {
    const text = [
      ANNOTATED,
      privilegedPod("priv"),
      `apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly, namespace: apps }
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
          containers:
            - name: job
              image: mcr.microsoft.com/job:1.0
`,
    ].join("---\n");
    const dir = workspace({ "all.yaml": text });
    const file = join(dir, "all.yaml");
    const report = jsonResults((await tollgate(["test", "-o", "json", file])).stdout);
    const originals = parseManifests(text, file).objects.map((o) => o.object);
    expect(report).toHaveLength(originals.length);
    expect(report.some((r) => r.patch.length > 0)).toBe(true);
    const patched = originals.map((object, i) => {
      const ops = report[i]?.patch ?? [];
      expect(jsonpatch.validate(ops, object)).toBeUndefined();
      return jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument;
    });

    const fixed = await tollgate(["fix", file]);
    expect(fixed.code).toBe(0);
    expect(objectsIn(fixed.stdout)).toEqual(patched);
  });

  it("reads stdin and writes the result to stdout", async () => {
    const run = await tollgate(["fix", "-"], { stdin: privilegedPod("from-stdin") });
    expect(run.code).toBe(0);
    const [pod] = objectsIn(run.stdout);
    expect(pod?.spec).toMatchObject({ automountServiceAccountToken: false });
    expect(run.stderr).toContain("<stdin>: document 1: patched Pod apps/from-stdin");
  });

  it("joins several files on stdout into one YAML stream", async () => {
    const dir = workspace({
      "a.yaml": privilegedPod("a"),
      "b.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}',
    });
    const run = await tollgate(["fix", join(dir, "a.yaml"), join(dir, "b.json")]);
    expect(objectsIn(run.stdout).map((o) => o.metadata?.name)).toEqual(["a", "b"]);
    expect(run.stdout).toMatch(/\n---\n\{"apiVersion"/);
  });

  it("keeps CRLF line endings", async () => {
    const dir = workspace({ "crlf.yaml": privilegedPod("crlf").replace(/\n/g, "\r\n") });
    const run = await tollgate(["fix", join(dir, "crlf.yaml")]);
    expect(run.stdout).toContain("automountServiceAccountToken: false\r\n");
    expect(run.stdout.replace(/\r\n/g, "")).not.toContain("\n");
  });

  it("leaves files with YAML syntax errors unchanged and exits 2", async () => {
    const broken = `${privilegedPod("fine")}---\nkind: Pod\nmetadata: [unclosed\n`;
    const dir = workspace({ "broken.yaml": broken, "good.yaml": privilegedPod("good") });
    const run = await tollgate(["fix", "--write", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken\.yaml: document 2 \(line \d+\): invalid YAML/);
    expect(readFileSync(join(dir, "broken.yaml"), "utf8")).toBe(broken);
    // The other file is still fixed.
    expect(readFileSync(join(dir, "good.yaml"), "utf8")).toContain("automountServiceAccountToken");
  });

  it("refuses to edit through YAML anchors, which would change other objects too", async () => {
    const shared = `apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: one, namespace: apps }
    spec:
      template:
        spec: &pod
          containers: [{ name: a, image: mcr.microsoft.com/a:1 }]
  - apiVersion: apps/v1
    kind: Deployment
    metadata: { name: two, namespace: apps }
    spec:
      template:
        spec: *pod
`;
    const dir = workspace({ "shared.yaml": shared });
    const config = onlyPoliciesConfig(dir, ["service-account-token"]);
    const run = await tollgate(["fix", "-c", config, join(dir, "shared.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /shared\.yaml: document 1: cannot fix this document automatically \(.*&pod\)/,
    );
    expect(run.stdout).toBe(shared);
  });

  it("rejects --write with stdin and --write with --stdout", async () => {
    const stdin = await tollgate(["fix", "--write", "-"], { stdin: "" });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toBe(
      "tollgate: --write cannot rewrite stdin; use --stdout (the default) with -\n",
    );
    const both = await tollgate(["fix", "--write", "--stdout", "x.yaml"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("cannot be used with option '--stdout'");
  });
});
