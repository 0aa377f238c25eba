// Objects nested past MAX_OBJECT_DEPTH are answered before anything recurses
// into them: an enforcing /validate denies with a clear message, every
// fail-open endpoint admits with a warning, and nothing answers 500.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { MAX_OBJECT_DEPTH, nestsDeeperThan } from "../../src/server/depth.js";
import { admit, post, privilegedPod, reviewOf, testApp } from "./support.js";

const MARK = "__deep__";

/** A Pod with a field `deep` that nests `levels` objects below the Pod itself. */
function deepPod(levels: number): KubeObject {
  return { ...privilegedPod("deep"), deep: `${MARK}${levels}` } as KubeObject;
}

/**
 * The review as JSON, each deepPod's marker replaced by its nested objects:
 * written as text, since JSON.stringify itself recurses.
 */
function deepJson(review: unknown): string {
  return JSON.stringify(review).replace(new RegExp(`"${MARK}(\\d+)"`, "g"), (_match, n) => {
    const levels = Number(n);
    return `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
  });
}

describe("nestsDeeperThan", () => {
  it("counts levels of objects and arrays, the value itself being level 1", () => {
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: {} }, 1)).toBe(true);
    expect(nestsDeeperThan({ a: [[1]] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [[{}]] }, 3)).toBe(true);
    expect(nestsDeeperThan("text", 0)).toBe(false);
  });

  it("measures a million levels without recursion", () => {
    let value: unknown[] = [];
    for (let i = 0; i < 1_000_000; i++) value = [value];
    expect(nestsDeeperThan(value, MAX_OBJECT_DEPTH)).toBe(true);
  });
});

describe("deeply nested objects", () => {
  const tooDeep = 20_000;

  it("denies on an enforcing /validate, naming the field and the limit", async () => {
    const { app } = testApp();
    const response = await admit(
      app,
      "/validate/enforce",
      deepJson(reviewOf(deepPod(tooDeep), { uid: "d1" })),
    );
    expect(response).toMatchObject({
      uid: "d1",
      allowed: false,
      status: {
        code: 400,
        message: `request.object nests deeper than ${MAX_OBJECT_DEPTH} levels; Tollgate does not evaluate it`,
      },
    });
  });

  it("checks oldObject on UPDATE too", async () => {
    const { app } = testApp();
    const review = reviewOf(privilegedPod("deep"), {
      uid: "d2",
      operation: "UPDATE",
      oldObject: deepPod(tooDeep),
    });
    const response = await admit(app, "/validate/enforce", deepJson(review));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain("request.oldObject nests deeper");
  });

  it.each(["/validate/warn", "/validate/audit", "/mutate", "/mutate/enforce"])(
    "admits with a warning on the fail-open %s",
    async (url) => {
      const { app } = testApp();
      const response = await admit(app, url, deepJson(reviewOf(deepPod(tooDeep), { uid: "d3" })));
      expect(response).toMatchObject({ uid: "d3", allowed: true });
      expect(response.warnings).toEqual([
        `tollgate: request.object nests deeper than ${MAX_OBJECT_DEPTH} levels; Tollgate does not evaluate it`,
      ]);
      expect(response.patch).toBeUndefined();
    },
  );

  it("admits an exempt namespace without a word", async () => {
    const { app } = testApp();
    // As the API server sends it: the object's namespace is the request's.
    const pod = deepPod(tooDeep);
    pod.metadata = { ...pod.metadata, namespace: "kube-system" };
    const review = reviewOf(pod, { uid: "d4", namespace: "kube-system" });
    expect(await admit(app, "/validate/enforce", deepJson(review))).toEqual({
      uid: "d4",
      allowed: true,
    });
  });

  it("evaluates an object exactly at the limit as usual", async () => {
    const { app } = testApp();
    // The Pod is level 1 and `deep` level 2, so this puts the innermost object at the limit.
    const response = await admit(
      app,
      "/validate/enforce",
      deepJson(reviewOf(deepPod(MAX_OBJECT_DEPTH - 1), { uid: "d5" })),
    );
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(403);
  });

  it("never answers 500, however deep", async () => {
    const { app } = testApp();
    for (const url of ["/validate/enforce", "/validate/warn", "/mutate"]) {
      for (const operation of ["CREATE", "UPDATE"] as const) {
        const deep = deepPod(200_000);
        const reply = await post(
          app,
          url,
          deepJson(reviewOf(deep, { operation, oldObject: deep })),
        );
        expect(reply.statusCode, `${url} ${operation}`).toBe(200);
      }
    }
  });
});
