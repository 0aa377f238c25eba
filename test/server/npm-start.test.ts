// `npm start`, as the README runs it: a signal sent to npm must reach the
// server, which drains and stops, instead of npm exiting and leaving the
// server running on its port.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "./support.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface LogRecord {
  msg?: string;
  reason?: string;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * The processes that have `arg` as one of their arguments (Linux /proc): the
 * server started through npm, found by its own --state-dir, whether npm's
 * shell exec'd it or left it as a grandchild.
 */
function processesWith(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(arg)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids;
}

describe("npm start", () => {
  // Ceilings against a hang on a busy machine (npm start compiles first);
  // nothing here asserts how long a step took.
  it("hands SIGTERM to the server, which drains and exits with npm", {
    timeout: 600_000,
  }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "tollgate-npm-start-"));
    const npm = spawn(
      "npm",
      ["start", "--", "--port", "0", "--no-cluster", "--drain-delay", "0", "--state-dir", stateDir],
      { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const servers = () => processesWith(stateDir).filter((pid) => pid !== npm.pid);
    cleanups.push(() => {
      if (npm.exitCode === null) npm.kill("SIGKILL");
      for (const pid of servers()) process.kill(pid, "SIGKILL");
      rmSync(stateDir, { recursive: true, force: true });
    });
    const records: LogRecord[] = [];
    let pending = "";
    npm.stdout.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) records.push(JSON.parse(line));
    });
    let stderr = "";
    npm.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    // "close", not "exit": the last log lines may still be in the pipe at exit.
    const npmExit = new Promise<number | null>((resolve) => npm.on("close", resolve));

    await eventually(
      () => {
        if (npm.exitCode !== null) throw new Error(`npm start exited early: ${stderr}`);
        return records.some((record) => record.msg === "listening") || undefined;
      },
      300_000,
      "the server started by npm start to listen",
    );
    expect(servers()).toHaveLength(1);

    npm.kill("SIGTERM");
    // Without the signal reaching the server, npm waits on it for ever.
    const stuck = sleep(120_000).then(() => "npm still running 120 s after SIGTERM");
    expect(await Promise.race([npmExit, stuck])).toBe(0);
    expect(records.find((record) => record.msg === "stopped")?.reason).toBe("SIGTERM");
    await eventually(() => servers().length === 0 || undefined, 30_000, "the server to exit");
  });
});
