import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import { createLogger, decisionLine, LOG_BUFFER_BYTES } from "../../src/server/logger.js";
import {
  eventually,
  fullPolicySet,
  LogCapture,
  post,
  privilegedPod,
  reviewOf,
  testApp,
} from "./support.js";

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

  it("write the decision line as pino writes the same fields, and not below the logger's level", () => {
    const fields = {
      reqId: "req-1",
      uid: 'uid "quoted" \\ é',
      namespace: undefined,
      name: "web-7d4b9-*",
      dryRun: false,
      policies: ["privileged", "probes"],
      annotations: { "exempt-subject": "user:alice" },
      durationMs: 0.125,
    };
    const ours = new LogCapture();
    const theirs = new LogCapture();
    decisionLine(ours.logger, "admission decision")(fields);
    theirs.logger.info(fields, "admission decision");
    const withoutTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":""');
    expect(ours.lines).toHaveLength(1);
    expect(withoutTime(ours.lines[0] ?? "")).toBe(withoutTime(theirs.lines[0] ?? ""));
    expect(ours.records()[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);

    const quiet = createLogger({ level: "warn", destination: { write: () => expect.fail() } });
    decisionLine(quiet, "admission decision")(fields);
  });
});

describe("standard output", () => {
  const logger = fileURLToPath(new URL("../../src/server/logger.ts", import.meta.url));
  /** Node's arguments for a child that logs `lines` lines through createLogger, then runs `end`. */
  const childArgs = (lines: number, end: string) => [
    "--import",
    "tsx",
    "--input-type=module",
    "-e",
    `const { createLogger } = await import(${JSON.stringify(logger)});
     const log = createLogger();
     for (let i = 0; i < ${lines}; i++) log.info({ i }, "line");
     ${end}`,
  ];
  function childOutput(lines: number, end: string): { stdout: string; status: number | null } {
    const child = spawnSync(process.execPath, childArgs(lines, end), { encoding: "utf8" });
    return { stdout: child.stdout, status: child.status };
  }
  const numbers = (stdout: string) =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => (JSON.parse(line) as { i: number }).i);

  it("keep every line when the process exits, ends on an error, or fills the buffer", () => {
    const many = Math.ceil((3 * LOG_BUFFER_BYTES) / 80);
    for (const [end, status] of [
      ["", 0],
      ["process.exit(3);", 3],
      ['throw new Error("boom");', 1],
      ["setTimeout(() => {}, 300);", 0],
    ] as const) {
      const out = childOutput(many, end);
      expect(out.status, end).toBe(status);
      expect(numbers(out.stdout), end).toEqual(Array.from({ length: many }, (_, i) => i));
    }
  });

  it("write a lone line while the process runs on, without waiting for the buffer to fill", async () => {
    // The child logs one line and then idles until killed: only the periodic
    // flush can bring the line out while it still runs.
    const child = spawn(process.execPath, childArgs(1, "setInterval(() => {}, 1000);"), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    try {
      const line = await eventually(
        async () => (out.includes("\n") ? out : undefined),
        30_000,
        "the line",
      );
      expect(child.exitCode).toBeNull();
      expect(numbers(line)).toEqual([0]);
    } finally {
      child.kill();
    }
  });
});
