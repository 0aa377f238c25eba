// deploy/components/vap/vap.yaml and the chart's files/vap.yaml are generated
// by `tollgate policies -o vap --config deploy/base/policyset.yaml`; this test
// fails when either is stale, and checks what the component adds to an overlay.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tollgate } from "../cli/support.js";
import { CHART, helm } from "./helm.js";
import { DEPLOY, REPO, render } from "./render.js";

const REGENERATE =
  "regenerate: npm run -s tollgate -- policies -o vap --config deploy/base/policyset.yaml > deploy/components/vap/vap.yaml && cp deploy/components/vap/vap.yaml charts/tollgate/files/vap.yaml";

describe("the generated ValidatingAdmissionPolicies of deploy/components/vap and the chart", () => {
  it.each([`${DEPLOY}components/vap/vap.yaml`, `${REPO}charts/tollgate/files/vap.yaml`])(
    "%s equals what tollgate policies -o vap prints now",
    async (file) => {
      const run = await tollgate([
        "policies",
        "-o",
        "vap",
        "--config",
        "deploy/base/policyset.yaml",
      ]);
      expect(run.code).toBe(0);
      expect(readFileSync(file, "utf8"), REGENERATE).toBe(run.stdout);
    },
  );

  it("adds a VAP and a Binding per exported deny policy to the cluster-wide overlay, and nothing else", () => {
    const key = (o: { kind?: string; metadata?: { name?: string } }) =>
      `${o.kind}/${o.metadata?.name}`;
    const plain = new Set(render("overlays/cluster-wide").map(key));
    const added = render("../test/deploy/helm-overlays/vap").filter((o) => !plain.has(key(o)));
    const kinds = added.map((o) => o.kind);
    expect(new Set(kinds)).toEqual(
      new Set(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]),
    );
    expect(added.map(key)).toContain("ValidatingAdmissionPolicyBinding/tollgate-privileged");
    expect(kinds.filter((k) => k === "ValidatingAdmissionPolicy").length).toBe(20);
  });

  it.each([["mode=opt-in"], ["exemptNamespaces[0]=batch"]])(
    "the chart refuses the value with %s, whose namespaces the shipped bindings do not select",
    (set) => {
      const result = helm([
        "template",
        "t",
        CHART,
        "--set",
        "validatingAdmissionPolicies.enabled=true",
        "--set",
        set,
      ]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("generate them with `tollgate policies -o vap --config");
    },
  );
});
