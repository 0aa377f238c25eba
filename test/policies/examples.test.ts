// One generic test over every policy's shipped examples: adding a policy
// folder with examples is enough for it to be covered here.
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
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
