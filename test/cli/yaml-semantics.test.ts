import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonResults, objectsIn, tollgate, workspace } from "./support.js";

const yesPrivileged = `apiVersion: apps/v1
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
          securityContext:
            privileged: yes
`;

const merged = `apiVersion: v1
kind: Pod
metadata: { name: merged, namespace: apps }
spec:
  containers:
    - &base
      name: one
      image: mcr.microsoft.com/app:1.0
      securityContext: { runAsNonRoot: true }
    - <<: *base
      name: two
      securityContext: { privileged: On }
`;

describe("manifests are read with YAML 1.1 rules, as kubectl reads them", () => {
  it("denies privileged: yes, and fix adds nothing the API server would reject beside it", async () => {
    const dir = workspace({ "web.yaml": yesPrivileged });
    const file = join(dir, "web.yaml");
    const run = await tollgate(["test", "--format", "json", file]);
    expect(run.code).toBe(1);
    const [result] = jsonResults(run.stdout);
    expect(result?.violations.map((v) => v.policy)).toContain("privileged");

    const fixed = await tollgate(["fix", file]);
    expect(fixed.code).toBe(0);
    expect(objectsIn(fixed.stdout)[0]).toMatchObject({
      spec: { template: { spec: { containers: [{ securityContext: { privileged: true } }] } } },
    });
    expect(fixed.stdout).not.toContain("allowPrivilegeEscalation");
    // The value is written back as it was, not as `true`.
    expect(fixed.stdout).toContain("privileged: yes");
  });

  it("expands merge keys, so a privileged container hidden behind <<: is found", async () => {
    const dir = workspace({ "pod.yaml": merged });
    const run = await tollgate(["test", "--format", "json", join(dir, "pod.yaml")]);
    const [result] = jsonResults(run.stdout);
    const privileged = result?.violations.filter((v) => v.policy === "privileged");
    expect(privileged?.map((v) => v.container)).toEqual(["two"]);
  });

  it("fix quotes a new string that kubectl would read as a boolean or number", async () => {
    const { Document } = await import("yaml");
    const { YAML_OPTIONS } = await import("../../src/manifests/scalars.js");
    const doc = new Document(
      { a: "on", b: "0o17", c: "1_000", d: "500m", e: 5, f: false },
      YAML_OPTIONS,
    );
    const text = doc.toString();
    expect(text).toBe('a: "on"\nb: "0o17"\nc: "1_000"\nd: 500m\ne: 5\nf: false\n');
    expect(objectsIn(`apiVersion: v1\nkind: X\n${text}`)[0]).toMatchObject({
      a: "on",
      b: "0o17",
      c: "1_000",
      d: "500m",
      e: 5,
      f: false,
    });
  });
});
