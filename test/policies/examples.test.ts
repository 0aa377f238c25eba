// One generic test over every policy's shipped examples: adding a policy
// folder with examples is enough for it to be covered here.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { exampleObjects, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const EXPECT_PATH = "tollgate.test/expect-path";

function label(object: { kind?: string; metadata?: { name?: string } }): string {
  return `${object.kind}/${object.metadata?.name}`;
}

function withoutTestAnnotations<T extends { metadata?: { annotations?: Record<string, string> } }>(
  object: T,
): T {
  const copy = structuredClone(object);
  const annotations = copy.metadata?.annotations;
  if (annotations) {
    delete annotations[EXPECT_PATH];
    if (Object.keys(annotations).length === 0) delete copy.metadata?.annotations;
  }
  return copy;
}

/**
 * Copies of `object`, each with one of its scalar fields (string, number,
 * boolean, null) replaced by `odd`, keyed by that field's path.
 */
function withEachScalar(object: KubeObject, odd: unknown): [string, KubeObject][] {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
      }
    } else {
      paths.push(path);
    }
  };
  walk(object, []);
  return paths.map((path) => {
    const copy = structuredClone(object) as unknown as Record<string | number, unknown>;
    let parent = copy;
    for (const key of path.slice(0, -1)) parent = parent[key] as typeof parent;
    parent[path.at(-1) as string | number] = odd;
    return [path.join("."), copy as unknown as KubeObject];
  });
}

describe.each(shippedPolicies().map((p) => [p.declaration.id, p.declaration.type] as const))(
  "policy %s (%s)",
  (id, type) => {
    const set = onlyPolicies([id]);
    const pass = exampleObjects(id, "pass");
    const fail = exampleObjects(id, "fail");

    it("ships pass and fail examples", () => {
      expect(pass.length).toBeGreaterThan(0);
      expect(fail.length).toBeGreaterThan(0);
    });

    // Found by npm run fuzz (seeds 20261205, 20261206): a field the API types
    // call a string, sent as an object whose toString key is not a function,
    // threw in a message template and the webhook answered 500. The API
    // server's own validation runs after webhooks, so any field can be anything.
    it("judges every example with any one field replaced by an object with a toString key", () => {
      const thrown: string[] = [];
      for (const object of [...pass, ...fail]) {
        for (const [path, odd] of withEachScalar(object, { toString: "x" })) {
          try {
            run(set, odd);
          } catch (error) {
            thrown.push(`${label(object)} ${path}: ${(error as Error).message}`);
          }
        }
      }
      expect(thrown).toEqual([]);
    });

    if (type === "validate") {
      it.each(pass.map((o) => [label(o), o] as const))("admits %s", (_name, object) => {
        expect(run(set, object).violations).toEqual([]);
      });
      it.each(fail.map((o) => [label(o), o] as const))("flags %s", (_name, object) => {
        const verdict = run(set, object);
        expect(verdict.violations.length).toBeGreaterThan(0);
        for (const v of verdict.violations) {
          expect(v.policy).toBe(id);
          expect(v.message).toContain(`${object.kind} "${object.metadata?.name}"`);
        }
        const expected = object.metadata?.annotations?.[EXPECT_PATH];
        if (expected) expect(verdict.violations.map((v) => v.path)).toContain(expected);
      });
      return;
    }

    const mutated = exampleObjects(id, "mutated");
    it("ships one mutated example per fail example", () => {
      expect(mutated.length).toBe(fail.length);
    });
    it.each(pass.map((o) => [label(o), o] as const))("leaves %s unpatched", (_name, object) => {
      expect(run(set, object, { phase: "mutate" }).patch).toEqual([]);
    });
    it.each(fail.map((o, i) => [label(o), o, i] as const))(
      "patches %s into its mutated example, idempotently",
      (_name, object, index) => {
        const { patch } = run(set, object, { phase: "mutate" });
        expect(patch.length).toBeGreaterThan(0);
        const once = jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
        expect(withoutTestAnnotations(once)).toEqual(withoutTestAnnotations(mutated[index] ?? {}));
        // The same patch applied again changes nothing (a `remove` cannot be
        // applied twice, so patches with one rely on the next check alone), and
        // the result needs no patch, which is what a reinvocation sees.
        if (patch.every((op) => op.op !== "remove")) {
          const twice = jsonpatch.applyPatch(structuredClone(once), patch, true, false).newDocument;
          expect(twice).toEqual(once);
        }
        expect(run(set, once, { phase: "mutate" }).patch).toEqual([]);
      },
    );
  },
);
