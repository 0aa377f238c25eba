import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { fullPolicySet, LogCapture, post, privilegedPod, reviewOf, testApp } from "./support.js";

const PASSWORD = "hunter2-TOLLGATE-CANARY-7f3a";
const STRING_DATA = "plain-TOLLGATE-CANARY-91bd";
const BEARER = "eyJhbGciOi-TOLLGATE-CANARY-TOKEN";
const ANNOTATION = "annotation-TOLLGATE-CANARY-55e0";

function secret(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: "db-credentials",
      namespace: "apps",
      annotations: { "example.com/note": ANNOTATION },
    },
    data: { password: Buffer.from(PASSWORD).toString("base64") },
    stringData: { token: STRING_DATA },
  };
}

function expectNoCanary(text: string) {
  for (const canary of [
    PASSWORD,
    Buffer.from(PASSWORD).toString("base64"),
    STRING_DATA,
    BEARER,
    ANNOTATION,
    "TOLLGATE-CANARY",
  ]) {
    expect(text).not.toContain(canary);
  }
}

describe("logs", () => {
  it("never contain Secret data or Authorization headers", async () => {
    const { app, logs } = testApp({ policies: fullPolicySet() });
    const headers = { authorization: `Bearer ${BEARER}` };
    const review = reviewOf(secret());
    for (const url of ["/validate", "/mutate", "/validate/warn", "/validate/audit"]) {
      expect((await post(app, url, review, headers)).statusCode).toBe(200);
    }
    const update = reviewOf(secret(), { operation: "UPDATE", oldObject: secret() });
    expect((await post(app, "/validate", update, headers)).statusCode).toBe(200);
    // Broken bodies that carry the secret: the error path must not echo them either.
    const text = JSON.stringify(review);
    expect((await post(app, "/validate", text.slice(0, -5), headers)).statusCode).toBe(400);
    const noUid = JSON.parse(text) as { request: { uid?: string } };
    delete noUid.request.uid;
    expect((await post(app, "/validate", noUid, headers)).statusCode).toBe(400);

    expect(logs.lines.length).toBeGreaterThanOrEqual(7);
    expectNoCanary(logs.text);
    // The decision itself is logged, by name only.
    expect(logs.withMessage("admission decision")[0]).toMatchObject({
      kind: "Secret",
      namespace: "apps",
      name: "db-credentials",
    });
  });

  it("redact credentials and objects even when a call site passes them by mistake", () => {
    const logs = new LogCapture();
    logs.logger.info(
      {
        headers: { authorization: `Bearer ${BEARER}` },
        req: { headers: { authorization: `Bearer ${BEARER}` } },
        request: { object: secret(), oldObject: secret() },
        object: secret(),
        body: JSON.stringify(secret()),
      },
      "careless",
    );
    expect(logs.lines).toHaveLength(1);
    expectNoCanary(logs.text);
    expect(logs.text).toContain("[redacted]");
  });

  it("write exactly one decision line per request, with every field, and no Fastify request lines", async () => {
    const { app, logs } = testApp();
    await post(app, "/validate", reviewOf(privilegedPod(), { uid: "uid-log", dryRun: true }));
    expect(logs.records()).toHaveLength(1);
    const [line] = logs.records();
    expect(line).toMatchObject({
      level: "info",
      msg: "admission decision",
      uid: "uid-log",
      phase: "validate",
      kind: "Pod",
      namespace: "apps",
      name: "shell",
      operation: "CREATE",
      mode: "enforce",
      dryRun: true,
      decision: "denied",
      policies: ["privileged"],
      patched: [],
    });
    expect(typeof line?.durationMs).toBe("number");
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("name generated objects by their generateName", async () => {
    const { app, logs } = testApp();
    const pod = privilegedPod();
    pod.metadata = { generateName: "web-7d4b9-", namespace: "apps" };
    await post(app, "/mutate", reviewOf(pod));
    expect(logs.withMessage("admission decision")[0]).toMatchObject({
      name: "web-7d4b9-*",
      patched: ["service-account-token"],
    });
  });
});
