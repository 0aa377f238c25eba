import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type AdmissionInput,
  evaluate,
  type KubeObject,
  type Mode,
  type Operation,
} from "../../src/engine/index.js";
import { exceptionLookup, indexExceptions } from "../../src/exceptions/index.js";
import {
  loadPolicySetFile,
  PolicyLoadError,
  type ResolvedPolicySet,
  resolvePolicySet,
} from "../../src/policyset/index.js";
import { exception } from "../exceptions/support.js";
import { shippedPolicies } from "../support/policies.js";

const HEADER = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };

const COST_CENTRE = {
  id: "cost-centre",
  severity: "high",
  action: "deny",
  parameters: { label: "cost-centre", allowed: ["shop", "ops"] },
  match: { kinds: ["Deployment"] },
  matchConditions: [
    { name: "not-a-test", expression: "!object.metadata.name.startsWith('test-')" },
  ],
  variables: [
    { name: "labels", expression: "object.metadata.?labels.orValue({})" },
    { name: "centre", expression: "variables.labels[?params.label].orValue('')" },
  ],
  validations: [
    {
      expression: "variables.centre in params.allowed",
      messageExpression:
        "'cost centre ' + variables.centre + ' is not one of ' + params.allowed.join(', ')",
    },
    {
      expression: "object.spec.replicas + 1 <= 11",
      message: "at most 10 replicas",
      reason: "Forbidden",
    },
  ],
};

function setOf(celPolicies: unknown[], extra: Record<string, unknown> = {}): ResolvedPolicySet {
  return resolvePolicySet([], { ...HEADER, celPolicies, ...extra }, "policyset.yaml");
}

function deployment(name: string, labels: Record<string, string>, replicas = 2): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", labels },
    spec: { replicas },
  };
}

function input(object: KubeObject, operation: Operation = "CREATE"): AdmissionInput {
  return {
    operation,
    kind: { group: "apps", version: "v1", kind: object.kind ?? "" },
    namespace: object.metadata?.namespace,
    name: object.metadata?.name,
    object,
    oldObject: undefined,
    dryRun: false,
    userInfo: undefined,
  };
}

function judge(set: ResolvedPolicySet, object: KubeObject, mode: Mode = "enforce") {
  return evaluate(input(object), set.set, { mode, phase: "both" });
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

describe("CEL policies of the PolicySet", () => {
  const set = setOf([COST_CENTRE]);

  it("pass with params and variables", () => {
    const verdict = judge(set, deployment("web", { "cost-centre": "shop" }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.results).toEqual([
      expect.objectContaining({ policy: "cost-centre", status: "pass" }),
    ]);
  });

  it("fail with the messageExpression and message, denying under deny in enforce", () => {
    const verdict = judge(set, deployment("web", { "cost-centre": "garden" }, 20));
    expect(verdict.allowed).toBe(false);
    expect(verdict.results[0]?.status).toBe("fail");
    expect(verdict.violations.map((v) => v.message)).toEqual([
      'Deployment "web": cost centre garden is not one of shop, ops',
      'Deployment "web": at most 10 replicas',
    ]);
    expect(verdict.violations[0]).toMatchObject({
      policy: "cost-centre",
      severity: "high",
      action: "deny",
      checklist: { section: "Custom", item: "cost-centre" },
    });
  });

  it("warn instead of denying in warn mode", () => {
    const verdict = judge(set, deployment("web", {}), "warn");
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toEqual([
      'cost-centre: Deployment "web": cost centre  is not one of shop, ops',
    ]);
  });

  it("let a PolicyException naming them through, keeping the finding visible", () => {
    const shop = exception(
      { policies: ["cost-centre"], match: { kinds: ["Deployment"], names: ["web"] } },
      { name: "no-centre", namespace: "shop" },
    );
    const exceptions = exceptionLookup(indexExceptions([shop]), {
      now: Date.parse("2026-12-01T00:00:00Z"),
      mayHold: () => true,
    });
    const object = deployment("web", { "cost-centre": "garden" });
    const verdict = evaluate(input(object), set.set, {
      mode: "enforce",
      phase: "both",
      exceptions,
    });
    expect(verdict.allowed).toBe(true);
    expect(verdict.excepted.map((v) => [v.policy, v.exception.name])).toEqual([
      ["cost-centre", "no-centre"],
    ]);
    expect(verdict.warnings).toContain("cost-centre: excepted by shop/no-centre");
    // Without the exception the same object is denied.
    expect(judge(set, object).allowed).toBe(false);
  });

  it("are skipped when a matchCondition is false, and for other kinds", () => {
    const verdict = judge(set, deployment("test-web", {}));
    expect(verdict.allowed).toBe(true);
    expect(verdict.results[0]).toMatchObject({ status: "skip", reason: "condition-not-matched" });
    const pod = judge(set, { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
    expect(pod.skipped).toBe("kind-not-matched");
  });

  it("honour exemptions and the PolicySet's overrides", () => {
    const exempt = setOf([{ ...COST_CENTRE, exemptions: { namespaces: ["shop"] } }]);
    expect(judge(exempt, deployment("web", {})).results[0]).toMatchObject({
      status: "skip",
      reason: "exempt-namespace",
    });
    const warned = setOf([COST_CENTRE], { policies: { "cost-centre": { action: "warn" } } });
    const verdict = judge(warned, deployment("web", {}));
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings).toHaveLength(1);
  });

  it("give an error result, not a crash, when an expression runs over its budget", () => {
    const looping = setOf([
      {
        id: "looping",
        action: "deny",
        match: { kinds: ["Deployment"] },
        validations: [
          {
            expression:
              "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a + b + c + d + e + f > 0))))))",
          },
        ],
      },
    ]);
    const verdict = judge(looping, deployment("web", {}));
    expect(verdict.results[0]?.status).toBe("error");
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]?.message).toMatch(
      /^Deployment "web": could not be evaluated: expression '.*' resulted in error: cost budget of 1000000 exceeded$/,
    );
  });

  it("give an error result when a field is missing, which has() would guard", () => {
    const verdict = judge(set, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop", labels: { "cost-centre": "ops" } },
      spec: {},
    });
    expect(verdict.results[0]?.status).toBe("error");
    expect(verdict.violations[0]?.message).toContain("no such key: replicas");
  });

  it("see request and oldObject", () => {
    const updates = setOf([
      {
        id: "no-rename-team",
        action: "deny",
        match: { kinds: ["Deployment"], operations: ["UPDATE"] },
        validations: [
          {
            expression:
              "request.operation == 'UPDATE' && request.kind.group == 'apps' && object.metadata.labels.team == oldObject.metadata.labels.team",
            message: "the team label is fixed",
          },
        ],
      },
    ]);
    const old = deployment("web", { team: "a" });
    const next = deployment("web", { team: "b" });
    const verdict = evaluate({ ...input(next, "UPDATE"), oldObject: old }, updates.set, {
      mode: "enforce",
      phase: "validate",
    });
    expect(verdict.violations.map((v) => v.message)).toEqual([
      'Deployment "web": the team label is fixed',
    ]);
  });

  it("see namespaceObject and request.userInfo when the caller gives them, null and empty otherwise", () => {
    const scoped = setOf([
      {
        id: "team-namespace",
        action: "deny",
        match: { kinds: ["Deployment"] },
        validations: [
          {
            expression:
              "namespaceObject != null && namespaceObject.metadata.labels.team == object.metadata.labels.team",
            messageExpression:
              "'team must match the namespace; sent by ' + request.userInfo.?username.orValue('nobody')",
          },
          {
            expression: "!('ops' in request.userInfo.?groups.orValue([]))",
            message: "ops may not deploy here",
          },
        ],
      },
    ]);
    const web = deployment("web", { team: "a" });
    const ns = (team: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop", labels: { team } },
    });
    const judgeWith = (extra: Partial<AdmissionInput>) =>
      evaluate({ ...input(web), ...extra }, scoped.set, {
        mode: "enforce",
        phase: "both",
      }).violations.map((v) => v.message);
    expect(judgeWith({ namespaceObject: ns("a") })).toEqual([]);
    expect(
      judgeWith({ namespaceObject: ns("b"), userInfo: { username: "jo", groups: ["ops"] } }),
    ).toEqual([
      'Deployment "web": team must match the namespace; sent by jo',
      'Deployment "web": ops may not deploy here',
    ]);
    expect(judgeWith({})).toEqual([
      'Deployment "web": team must match the namespace; sent by nobody',
    ]);
  });
});

describe("loading CEL policies", () => {
  it("loads the example of docs/cel.md", () => {
    const text = readFileSync(new URL("../../docs/cel.md", import.meta.url), "utf8");
    const block = /```yaml\n(apiVersion: tollgate[\s\S]*?)```/.exec(text)?.[1] ?? "";
    const raw = parse(block) as Record<string, unknown>;
    const loaded = resolvePolicySet([], { ...raw, celPolicyFiles: [] }, "docs/cel.md");
    expect(loaded.policies[0]?.declaration).toMatchObject({ id: "cost-centre", action: "deny" });
    const verdict = judge(loaded, {
      ...deployment("web", { "cost-centre": "garden" }),
      metadata: { name: "web", namespace: "team-a", labels: { "cost-centre": "garden" } },
    });
    expect(verdict.violations.map((v) => v.message)).toEqual([
      'Deployment "web": cost-centre garden is not one of shop, ops',
    ]);
  });

  it("fails naming file, field, policy, position and expression", () => {
    const bad = {
      ...COST_CENTRE,
      validations: [{ expression: "object.metadata.name ==\n  && true" }],
    };
    const error = loadError(() => setOf([bad]));
    expect(error.file).toBe("policyset.yaml");
    expect(error.field).toBe("celPolicies[0].validations[0].expression");
    expect(error.problem).toMatch(
      /^policy cost-centre: .* at line 2, column 3 of "object.metadata.name ==\\n {2}&& true"$/,
    );
  });

  it("rejects a validation that cannot return a bool", () => {
    const bad = { ...COST_CENTRE, validations: [{ expression: "'text'" }] };
    expect(loadError(() => setOf([bad])).problem).toContain("must return bool, not string");
  });

  it("rejects an id a built-in policy has, and unknown checklist items", () => {
    const taken = { ...COST_CENTRE, id: "privileged" };
    expect(
      loadError(() =>
        resolvePolicySet(shippedPolicies(), { ...HEADER, celPolicies: [taken] }, "p.yaml"),
      ).problem,
    ).toContain('"privileged" is already the id of a policy');
    const item = { ...COST_CENTRE, checklist: { section: "Container", item: "Nope" } };
    expect(loadError(() => setOf([item])).field).toBe("celPolicies[0].checklist");
  });

  it("reads the files celPolicyFiles names, relative to the PolicySet", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-cel-"));
    writeFileSync(join(dir, "team.yaml"), JSON.stringify([COST_CENTRE]));
    writeFileSync(
      join(dir, "bad.yaml"),
      JSON.stringify([{ ...COST_CENTRE, id: "bad", validations: [{ expression: "1 +" }] }]),
    );
    writeFileSync(
      join(dir, "policyset.yaml"),
      JSON.stringify({ ...HEADER, celPolicyFiles: ["team.yaml"] }),
    );
    const loaded = loadPolicySetFile([], join(dir, "policyset.yaml"));
    expect(loaded.policies.map((p) => [p.declaration.id, p.file])).toEqual([
      ["cost-centre", join(dir, "team.yaml")],
    ]);
    expect(judge(loaded, deployment("web", {})).allowed).toBe(false);
    writeFileSync(
      join(dir, "policyset.yaml"),
      JSON.stringify({ ...HEADER, celPolicyFiles: ["bad.yaml"] }),
    );
    const error = loadError(() => loadPolicySetFile([], join(dir, "policyset.yaml")));
    expect(error.file).toBe(join(dir, "bad.yaml"));
    expect(error.field).toBe("[0].validations[0].expression");
  });
});
