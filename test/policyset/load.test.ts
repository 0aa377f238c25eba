import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineClusterCheck, definePolicy } from "../../src/engine/index.js";
import {
  loadClusterChecks,
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
  function registryIn(files: Record<string, string>, ids: string[], checkIds: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-registry-"));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const modules = ids.map((id) =>
      definePolicy({
        id,
        scope: "pod",
        parameters: z.object({ n: z.number(), on: z.boolean().optional() }).strict(),
        validate: () => [],
      }),
    );
    const clusterChecks = checkIds.map((id) =>
      defineClusterCheck({
        id,
        parameters: z.object({ n: z.number() }).strict(),
        judge: () => [],
      }),
    );
    return { modules, clusterChecks, directory: pathToFileURL(`${dir}/`) };
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

  it("reads a list of checklist items, with their coverage and parts", () => {
    const list = valid("a").replace(
      `checklist: { section: Windows, item: "Don't use privileged containers" }`,
      [
        "checklist:",
        '  - { section: Windows, item: "Don\'t use privileged containers" }',
        "  - { section: Container, item: Runtime Security of Applications, coverage: partial, part: on }",
      ].join("\n"),
    );
    const files = {
      "a/policy.yaml": list.replace("parameters: { n: 1 }", "parameters: { n: 1, on: true }"),
    };
    const [loaded] = loadDeclarations(registryIn(files, ["a"]));
    expect(loaded?.declaration.checklist).toEqual([
      { section: "Windows", item: "Don't use privileged containers", coverage: "full" },
      {
        section: "Container",
        item: "Runtime Security of Applications",
        coverage: "partial",
        part: "on",
      },
    ]);
    const field = (text: string) =>
      loadError(() => loadDeclarations(registryIn({ "a/policy.yaml": text }, ["a"]))).field;
    // A part must be a boolean parameter the policy has.
    expect(field(list)).toBe("checklist[1].part");
    expect(field(list.replace("part: on", "part: n"))).toBe("checklist[1].part");
    expect(field(list.replace("Runtime Security of Applications", "Be nice"))).toBe("checklist[1]");
    expect(field(list.replace("coverage: partial", "coverage: most"))).toBe("checklist");
  });

  it("rejects a declaration whose id differs from its folder", () => {
    const files = { "a/policy.yaml": valid("b") };
    expect(loadError(() => loadDeclarations(registryIn(files, ["a"]))).field).toBe("id");
  });

  const check = (id: string) => `id: ${id}
title: T
description: D
checklist: { section: Network, item: "Configure default network policies in each namespace" }
severity: medium
scope: namespace
parameters: { n: 1 }
`;

  it("loads cluster checks from cluster/<id>/check.yaml", () => {
    const [loaded] = loadClusterChecks(
      registryIn({ "cluster/c/check.yaml": check("c") }, [], ["c"]),
    );
    expect(loaded?.declaration).toMatchObject({
      id: "c",
      scope: "namespace",
      parameters: { n: 1 },
    });
    expect(loaded?.file).toMatch(/cluster\/c\/check\.yaml$/);
  });

  it("fails when the cluster checks are not sorted", () => {
    const files = { "cluster/a/check.yaml": check("a"), "cluster/b/check.yaml": check("b") };
    const error = loadError(() => loadClusterChecks(registryIn(files, [], ["b", "a"])));
    expect(error.field).toBe("clusterChecks[1]");
    expect(error.file).toMatch(/index\.ts$/);
  });

  it("names the check file and field of a bad check declaration", () => {
    const bad = (from: string, to: string) => ({
      "cluster/c/check.yaml": check("c").replace(from, to),
    });
    const field = (files: Record<string, string>) =>
      loadError(() => loadClusterChecks(registryIn(files, [], ["c"]))).field;
    expect(field(bad("scope: namespace", "scope: region"))).toBe("scope");
    expect(field(bad("n: 1", "n: one"))).toBe("parameters.n");
    expect(field(bad("in each namespace", "somewhere"))).toBe("checklist");
    expect(field(bad("id: c", "id: d"))).toBe("id");
    const error = loadError(() =>
      loadClusterChecks(registryIn(bad("scope: namespace", "scope: region"), [], ["c"])),
    );
    expect(error.file).toMatch(/cluster\/c\/check\.yaml$/);
  });

  it("rejects a cluster check with a policy's id", () => {
    const files = { "a/policy.yaml": valid("a"), "cluster/a/check.yaml": check("a") };
    const error = loadError(() => loadClusterChecks(registryIn(files, ["a"], ["a"])));
    expect(error.field).toBe("clusterChecks[0]");
    expect(error.problem).toContain("also the id of a policy");
  });
});
