// The exemption and exception keys of the PolicySet (src/policyset/exemptions.ts).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate, inputFromObject } from "../../src/engine/index.js";
import { loadPolicySetFile, PolicyLoadError } from "../../src/policyset/index.js";
import { shippedPolicies } from "../support/policies.js";

const header = "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\n";

function tempFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "tollgate-")), "set.yaml");
  writeFileSync(file, header + text);
  return file;
}

function loadError(text: string): PolicyLoadError {
  const file = tempFile(text);
  try {
    loadPolicySetFile(shippedPolicies(), file);
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error("expected a PolicyLoadError");
}

const privilegedPod = (namespace: string, name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace },
  spec: {
    containers: [
      { name: "c", image: "mcr.microsoft.com/x:1", securityContext: { privileged: true } },
    ],
  },
});

describe("name exemptions", () => {
  it("refuse a bare name, naming file and field and saying how to fix it", () => {
    const error = loadError("exemptions: { names: [csi-node] }\n");
    expect(error.field).toBe("exemptions.names[0]");
    expect(error.message).toContain("set.yaml");
    expect(error.problem).toContain('write "<namespace>/csi-node"');
    const perPolicy = loadError("policies:\n  privileged: { exemptions: { names: [web] } }\n");
    expect(perPolicy.field).toBe("policies.privileged.exemptions.names[0]");
  });

  it("exempt a name in its namespace only", () => {
    const set = loadPolicySetFile(
      shippedPolicies(),
      tempFile("policies:\n  privileged: { exemptions: { names: [storage/csi-node*] } }\n"),
    ).set;
    const denies = (namespace: string, name: string) =>
      evaluate(inputFromObject(privilegedPod(namespace, name)), set, {
        mode: "enforce",
        phase: "validate",
      }).violations.some((v) => v.policy === "privileged");
    expect(denies("storage", "csi-node-1")).toBe(false);
    expect(denies("team-a", "csi-node-1")).toBe(true);
  });
});

describe("exemption settings", () => {
  it("default to no subjects, an unguarded label and exceptions in every namespace", () => {
    const { settings } = loadPolicySetFile(shippedPolicies(), undefined);
    expect(
      settings.exemptSubject({ username: "admin", groups: ["system:masters"] }),
    ).toBeUndefined();
    expect(settings.protectModeLabel).toBe(false);
    expect(settings.mayHoldExceptions("anything")).toBe(true);
  });

  it("read subjects, the label guard and the namespaces that may hold exceptions", () => {
    const { settings } = loadPolicySetFile(
      shippedPolicies(),
      tempFile(`exemptions:
  subjects: { groups: ["tollgate:break-glass"], serviceAccounts: [flux-system/*] }
protectModeLabel: true
modeLabelEditors: { groups: [system:masters] }
exceptionNamespaces: [storage, team-*]
`),
    );
    expect(settings.exemptSubject({ username: "x", groups: ["tollgate:break-glass"] })).toBe(
      "group tollgate:break-glass",
    );
    expect(settings.protectModeLabel).toBe(true);
    expect(settings.modeLabelEditor({ username: "root", groups: ["system:masters"] })).toBe(
      "group system:masters",
    );
    expect(settings.mayHoldExceptions("team-a")).toBe(true);
    expect(settings.mayHoldExceptions("apps")).toBe(false);
  });

  it("refuse a ServiceAccount without its namespace and subjects on one policy", () => {
    expect(loadError("exemptions: { subjects: { serviceAccounts: [flux] } }\n").field).toBe(
      "exemptions.subjects.serviceAccounts[0]",
    );
    expect(
      loadError("policies:\n  privileged: { exemptions: { subjects: { users: [a] } } }\n").field,
    ).toBe("policies.privileged.exemptions");
  });
});
