import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { admit, post, privilegedPod, reviewOf, testApp } from "./support.js";

function errorOf(body: string): { statusCode: number; error: string; message: string } {
  return JSON.parse(body) as { statusCode: number; error: string; message: string };
}

describe("bodies that are not an AdmissionReview", () => {
  it("answers malformed JSON with a 400 that does not quote the body", async () => {
    const { app, logs } = testApp();
    const reply = await post(app, "/validate", '{"apiVersion": "admission.k8s.io/v1", "kind": ');
    expect(reply.statusCode).toBe(400);
    expect(reply.headers["content-type"]).toMatch(/^application\/json/);
    expect(errorOf(reply.body)).toEqual({
      statusCode: 400,
      error: "Bad Request",
      message: "request body is not valid JSON",
    });
    expect(logs.text).not.toContain("admission.k8s.io");
  });

  it.each([
    [
      { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" },
      "AdmissionReview has no request",
    ],
    [
      {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: { kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE" },
      },
      "request.uid is required",
    ],
    [
      { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: {} },
      "apiVersion: must be admission.k8s.io/v1",
    ],
    [[1, 2, 3], "body must be an AdmissionReview object"],
    [
      {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: "u",
          kind: { group: "", version: "v1", kind: "Pod" },
          operation: "PATCH",
        },
      },
      "request.operation",
    ],
  ])("answers %j with a 400 naming the problem", async (body, message) => {
    const { app } = testApp();
    const reply = await post(app, "/validate", body);
    expect(reply.statusCode).toBe(400);
    expect(errorOf(reply.body).message).toContain(message);
  });

  it("answers a wrong or missing content type with a 415", async () => {
    const { app } = testApp();
    const review = JSON.stringify(reviewOf(privilegedPod()));
    for (const contentType of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/yaml",
    ]) {
      const reply = await app.inject({
        method: "POST",
        url: "/validate",
        payload: review,
        headers: { "content-type": contentType },
      });
      expect(reply.statusCode).toBe(415);
      expect(errorOf(reply.body).message).toBe("Content-Type must be application/json");
    }
  });

  it("accepts application/json with a charset", async () => {
    const { app } = testApp();
    const reply = await app.inject({
      method: "POST",
      url: "/validate",
      payload: JSON.stringify(reviewOf(privilegedPod())),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(reply.statusCode).toBe(200);
  });

  it("answers an empty body with a 400", async () => {
    const { app } = testApp();
    const reply = await post(app, "/validate", "");
    expect(reply.statusCode).toBe(400);
    expect(errorOf(reply.body).message).toContain("empty");
  });

  it("takes bodies of 3 MiB and answers larger ones than the limit with a 413", async () => {
    const { app } = testApp();
    const big = (size: number): KubeObject => ({
      ...privilegedPod(),
      metadata: { name: "big", namespace: "apps", annotations: { blob: "x".repeat(size) } },
    });
    const threeMiB = await post(app, "/validate", reviewOf(big(3 * 1024 * 1024)));
    expect(threeMiB.statusCode).toBe(200);
    const tooBig = await post(app, "/validate", reviewOf(big(4 * 1024 * 1024 + 1)));
    expect(tooBig.statusCode).toBe(413);
    expect(errorOf(tooBig.body).message).toBe("request body is larger than 4194304 bytes");

    const small = testApp({ bodyLimit: 64 * 1024 });
    const limited = await post(small.app, "/validate", reviewOf(big(70 * 1024)));
    expect(limited.statusCode).toBe(413);
  });

  it("rejects an unknown mode", async () => {
    const { app } = testApp();
    for (const url of ["/validate/strict", "/validate?mode=strict", "/mutate/ENFORCE"]) {
      const reply = await post(app, url, reviewOf(privilegedPod()));
      expect(reply.statusCode).toBe(400);
      expect(errorOf(reply.body).message).toMatch(
        /mode must be equal to one of the allowed values/,
      );
    }
  });

  it("answers unknown routes with a 404 listing the endpoints", async () => {
    const { app } = testApp();
    const reply = await app.inject({ method: "GET", url: "/validate" });
    expect(reply.statusCode).toBe(404);
    expect(errorOf(reply.body).message).toContain("POST /validate");
  });

  it("treats keys such as __proto__ as data, like the API server does", async () => {
    const { app } = testApp();
    const body = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"proto","kind":{"group":"","version":"v1","kind":"ConfigMap"},"namespace":"apps","operation":"CREATE","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"__proto__":"x","constructor":{"prototype":{"polluted":"yes"}}}}}}`;
    const reply = await post(app, "/validate", body);
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({ response: { uid: "proto", allowed: true } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("answers 503 while no policy set is loaded", async () => {
    const { app, policies } = testApp();
    policies.current = undefined;
    const reply = await post(app, "/validate", reviewOf(privilegedPod()));
    expect(reply.statusCode).toBe(503);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
  });

  it("answers a 500 when deciding throws, and logs it", async () => {
    const { app, logs } = testApp({
      resolveMode: () => {
        throw new Error("boom");
      },
    });
    // labelModeResolver never throws; a broken resolver must still not crash the process.
    const reply = await post(app, "/validate", reviewOf(privilegedPod()));
    expect(reply.statusCode).toBe(500);
    expect(errorOf(reply.body).message).toBe("internal error");
    expect(logs.withMessage("request failed")).toHaveLength(1);
  });
});

describe("health", () => {
  it("/healthz answers while alive, /readyz fails once shutdown begins", async () => {
    const { app, readiness } = testApp();
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: "ready" });
    readiness.beginShutdown();
    const draining = await app.inject({ method: "GET", url: "/readyz" });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ status: "shutting down" });
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    // Admission keeps working while draining.
    expect((await admit(app, "/validate", reviewOf(privilegedPod()))).allowed).toBe(false);
  });
});
