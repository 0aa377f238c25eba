import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { registry } from "../../policies/index.js";
import {
  compilePolicySet,
  definePolicy,
  evaluate,
  inputFromObject,
  type KubeObject,
  type Mode,
  type Operation,
  type Phase,
  type PolicySet,
  type Verdict,
} from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";
import {
  type LoadedPolicy,
  loadPolicySetFile,
  shippedPolicies as loadShippedPolicies,
  type ResolvedPolicySet,
  resolvePolicySet,
} from "../../src/policyset/index.js";

let cache: LoadedPolicy[] | undefined;

/** The shipped declarations, loaded once per test file. */
export function shippedPolicies(): LoadedPolicy[] {
  cache ??= loadShippedPolicies();
  return cache;
}

/** The default policy set, exactly as `tollgate test` uses without --config. */
export function defaultSet(): PolicySet {
  return loadPolicySetFile(shippedPolicies(), undefined).set;
}

/** A set holding only the named policies, enabled, with optional parameter overrides. */
export function onlyPolicies(ids: string[], parameters: Record<string, unknown> = {}): PolicySet {
  const chosen = shippedPolicies()
    .filter((p) => ids.includes(p.declaration.id))
    .map((p) => ({
      ...p,
      declaration: {
        ...p.declaration,
        enabled: true,
        parameters: { ...(p.declaration.parameters as object), ...parameters },
      },
    }));
  if (chosen.length !== ids.length) throw new Error(`unknown policy among ${ids.join(", ")}`);
  return compilePolicySet(chosen, ["kube-system"]);
}

export interface RunOptions {
  mode?: Mode;
  phase?: Phase;
  operation?: Operation;
  oldObject?: KubeObject;
}

export function run(set: PolicySet, object: KubeObject, options: RunOptions = {}): Verdict {
  const input = inputFromObject(object, {
    operation: options.operation ?? "CREATE",
    oldObject: options.oldObject,
  });
  return evaluate(input, set, { mode: options.mode ?? "enforce", phase: options.phase ?? "both" });
}

export function policyDirectory(id: string): string {
  return fileURLToPath(new URL(`${id}/`, registry.directory));
}

/** Objects of one example file, or [] when the policy does not ship it. */
export function exampleObjects(id: string, name: "pass" | "fail" | "mutated"): KubeObject[] {
  const dir = `${policyDirectory(id)}examples`;
  const file = `${dir}/${name}.yaml`;
  if (!readdirSync(dir).includes(`${name}.yaml`)) return [];
  const parsed = parseManifests(readFileSync(file, "utf8"), file);
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  return parsed.objects.map((o) => o.object);
}

/** Reads YAML manifests from a string, failing the test on any problem. */
export function objectsOf(text: string): KubeObject[] {
  const parsed = parseManifests(text, "inline");
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  return parsed.objects.map((o) => o.object);
}

export function objectOf(text: string): KubeObject {
  const [first] = objectsOf(text);
  if (!first) throw new Error("no object in text");
  return first;
}

/**
 * A one-policy set whose deny policy (posing as `replicas`, so the shipped
 * declaration and checklist stay valid) reports `message` for any object whose
 * spec the predicate picks: a finding then proves a field reached the policies.
 */
export function specReadingSet(
  picks: (spec: Record<string, unknown>) => boolean,
  message: string,
): ResolvedPolicySet {
  const base = shippedPolicies().find((p) => p.declaration.id === "replicas");
  if (!base) throw new Error("replicas is not shipped");
  const reads = definePolicy({
    id: "replicas",
    scope: "object",
    parameters: z.unknown(),
    validate({ object }) {
      const spec = (object.spec ?? {}) as Record<string, unknown>;
      return picks(spec) ? [{ message, path: ["spec"] }] : [];
    },
  });
  return resolvePolicySet(
    [{ ...base, module: reads, declaration: { ...base.declaration, action: "deny" } }],
    { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" },
    "test policies",
  );
}
