import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePolicy } from "../../src/engine/index.js";
import {
  loadDeclarations,
  loadPolicySetFile,
  PolicyLoadError,
  resolvePolicySet,
} from "../../src/policyset/index.js";
import { shippedPolicies } from "../support/policies.js";

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-"));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(fn: () => unknown): PolicyLoadError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error("expected a PolicyLoadError");
}

const header = "apiVersion: tollgate.dev/v1alpha1\nkind: PolicySet\n";

describe("the user's policy set file", () => {
  const policies = shippedPolicies();

  it("uses the shipped defaults without a file", () => {
    const resolved = loadPolicySetFile(policies, undefined);
    expect(resolved.settings).toMatchObject({
      defaultMode: "enforce",
      tollgateNamespace: "tollgate-system",
    });
    expect(resolved.settings.exemptNamespaces).toEqual(
      expect.arrayContaining(["kube-system", "kube-public", "kube-node-lease", "tollgate-system"]),
    );
  });

  it("overrides actions, disables policies and adds exemptions", () => {
    const file = tempFile(
      "set.yaml",
      `${header}tollgateNamespace: gate
exemptions: { namespaces: [legacy-*] }
policies:
  privileged: { action: warn, exemptions: { images: ["mcr.microsoft.com/debug/**"] } }
  service-account-token: { enabled: false }
`,
    );
    const resolved = loadPolicySetFile(policies, file);
    const privileged = resolved.policies.find((p) => p.declaration.id === "privileged");
    expect(privileged?.declaration.action).toBe("warn");
    expect(privileged?.declaration.exemptions).toMatchObject({
      namespaces: ["legacy-*"],
      images: ["mcr.microsoft.com/debug/**"],
    });
    expect(resolved.set.policies.map((p) => p.declaration.id)).not.toContain(
      "service-account-token",
    );
    expect(resolved.settings.exemptNamespaces).toContain("gate");
  });

  it("names the file and the field of an invalid value", () => {
    const file = tempFile("bad.yaml", `${header}policies:\n  privileged: { action: block }\n`);
    const error = loadError(() => loadPolicySetFile(policies, file));
    expect(error.file).toBe(file);
    expect(error.field).toBe("policies.privileged.action");
    expect(error.message).toContain(file);
  });

  it("rejects unknown policies, listing the known ones", () => {
    const error = loadError(() =>
      resolvePolicySet(
        policies,
        { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet", policies: { privilegd: {} } },
        "x.yaml",
      ),
    );
    expect(error.field).toBe("policies.privilegd");
    expect(error.problem).toContain("privileged");
  });

  it("rejects misspelt keys instead of ignoring them", () => {
    const error = loadError(() =>
      resolvePolicySet(
        policies,
        { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet", defaultMod: "warn" },
        "x.yaml",
      ),
    );
    expect(error.message).toContain("defaultMod");
  });

  it("reports YAML syntax errors with a line number", () => {
    const file = tempFile("syntax.yaml", `${header}policies: [unclosed\n`);
    const error = loadError(() => loadPolicySetFile(policies, file));
    expect(error.field).toMatch(/line \d+/);
  });

  it("reports a missing file", () => {
    const error = loadError(() => loadPolicySetFile(policies, "/nonexistent/policyset.yaml"));
    expect(error.problem).toContain("ENOENT");
  });
});

describe("the registry", () => {
  function registryIn(files: Record<string, string>, ids: string[]) {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-registry-"));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const modules = ids.map((id) =>
      definePolicy({
        id,
        scope: "pod",
        parameters: z.object({ n: z.number() }).strict(),
        validate: () => [],
      }),
    );
    return { modules, directory: pathToFileURL(`${dir}/`) };
  }

  const valid = (id: string) => `id: ${id}
title: T
description: D
checklist: { section: Windows, item: "Don't use privileged containers" }
severity: high
type: validate
action: deny
parameters: { n: 1 }
`;

  it("loads valid declarations and fills defaults", () => {
    const [loaded] = loadDeclarations(registryIn({ "a/policy.yaml": valid("a") }, ["a"]));
    expect(loaded?.declaration.match.kinds).toContain("CronJob");
    expect(loaded?.declaration.enabled).toBe(true);
  });

  it("fails when the registry is not sorted", () => {
    const files = { "a/policy.yaml": valid("a"), "b/policy.yaml": valid("b") };
    const error = loadError(() => loadDeclarations(registryIn(files, ["b", "a"])));
    expect(error.field).toBe("modules[1]");
  });

  it("names the policy file and field of a bad declaration", () => {
    const files = { "a/policy.yaml": valid("a").replace("severity: high", "severity: urgent") };
    const error = loadError(() => loadDeclarations(registryIn(files, ["a"])));
    expect(error.file).toMatch(/a\/policy\.yaml$/);
    expect(error.field).toBe("severity");
  });

  it("checks parameters against the policy's schema", () => {
    const files = { "a/policy.yaml": valid("a").replace("n: 1", "n: one") };
    const error = loadError(() => loadDeclarations(registryIn(files, ["a"])));
    expect(error.field).toBe("parameters.n");
  });

  it("rejects a checklist item that does not exist", () => {
    const files = {
      "a/policy.yaml": valid("a").replace("Don't use privileged containers", "Be nice"),
    };
    expect(loadError(() => loadDeclarations(registryIn(files, ["a"]))).field).toBe("checklist");
  });

  it("rejects a declaration whose id differs from its folder", () => {
    const files = { "a/policy.yaml": valid("b") };
    expect(loadError(() => loadDeclarations(registryIn(files, ["a"]))).field).toBe("id");
  });
});
