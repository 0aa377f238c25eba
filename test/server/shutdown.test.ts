// `tollgate serve` in a child process: SIGTERM with requests in flight.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, httpsCall, privilegedPod, reviewOf, sleep } from "./support.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// Long enough that a busy machine still gets the readiness probe and the late
// request in before the listener closes.
const DRAIN_MS = 4_000;

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  port: number;
  ca: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

async function startCli(args: string[]): Promise<Started> {
  const stateDir = mkdtempSync(join(tmpdir(), "tollgate-serve-"));
  dirs.push(stateDir);
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "serve",
      "--port",
      "0",
      "--state-dir",
      stateDir,
      ...args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: "", HOME: stateDir },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = await eventually(
    () => {
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const record = JSON.parse(line) as { msg?: string; url?: string };
        if (record.msg === "listening" && record.url) return Number(new URL(record.url).port);
      }
      if (child.exitCode !== null) throw new Error(`serve exited early: ${err}`);
      return undefined;
    },
    30_000,
    "tollgate serve to listen",
  );
  return {
    child,
    port,
    ca: readFileSync(join(stateDir, "ca.crt"), "utf8"),
    stdout: () => out,
    exited,
  };
}

/** Starts a request, sends half its body and returns a function that sends the rest. */
function halfSent(port: number, ca: string, body: string) {
  let finish!: () => void;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path: "/validate",
        method: "POST",
        ca,
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    request.on("error", reject);
    const half = Math.floor(body.length / 2);
    request.write(body.slice(0, half));
    finish = () => request.end(body.slice(half));
  });
  return { response, finish: () => finish() };
}

describe("tollgate serve", () => {
  it("drains on SIGTERM: readiness fails, requests in flight complete, exit code 0", {
    timeout: 60_000,
  }, async () => {
    const server = await startCli(["--drain-delay", String(DRAIN_MS), "--no-cluster"]);
    const { port, ca } = server;
    expect((await httpsCall({ port, path: "/readyz", ca })).status).toBe(200);

    const inFlight = [1, 2, 3].map((i) =>
      halfSent(port, ca, JSON.stringify(reviewOf(privilegedPod(`p${i}`), { uid: `uid-${i}` }))),
    );
    await sleep(300);
    const signalledAt = Date.now();
    server.child.kill("SIGTERM");

    // Readiness fails first, while admission is still served.
    await eventually(
      async () =>
        (await httpsCall({ port, path: "/readyz", ca })).status === 503 ? true : undefined,
      DRAIN_MS,
      "/readyz to fail",
    );
    const during = await httpsCall({
      port,
      path: "/validate",
      ca,
      body: JSON.stringify(reviewOf(privilegedPod("late"), { uid: "uid-late" })),
    });
    expect(during.status).toBe(200);
    expect(JSON.parse(during.body).response).toMatchObject({ uid: "uid-late", allowed: false });

    // Past the drain delay the listener is closing; the half-sent requests finish now.
    await sleep(Math.max(0, signalledAt + DRAIN_MS + 300 - Date.now()));
    expect(server.child.exitCode).toBeNull();
    for (const request of inFlight) request.finish();
    const answers = await Promise.all(inFlight.map((r) => r.response));
    answers.forEach((answer, index) => {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).response).toMatchObject({
        uid: `uid-${index + 1}`,
        allowed: false,
      });
    });

    expect(await server.exited).toBe(0);
    const messages = server
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain("shutting down: /readyz now fails; draining");
    expect(messages.at(-1)).toBe("stopped");
    expect(messages.filter((m) => m === "admission decision")).toHaveLength(4);
  });
});
