// The machine-wide lock that keeps two real nodes (two clones' CIs, two
// worktrees) from running at once, exercised without starting a node: the
// functions of test/node/lib.sh with a lock file and run directories of the
// test's own.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const LIB = new URL("lib.sh", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tollgate-node-lock-"));
const lock = join(dir, "lock");

/** Runs `script` with lib.sh sourced for the node whose run directory is `runDir`. */
function asNode(runDir: string, script: string) {
  const result = spawnSync(
    "bash",
    [
      "-c",
      `set -euo pipefail; here=${JSON.stringify(join(LIB, ".."))}; . "$here/lib.sh"; stop_timeout=5; log() { :; }; ${script}`,
    ],
    {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, TOLLGATE_NODE_RUN_DIR: runDir, TOLLGATE_NODE_LOCK: lock },
    },
  );
  return { status: result.status, stderr: result.stderr };
}

function holderPid(runDir: string): number | undefined {
  const file = join(runDir, "pids", "node-lock.pid");
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : undefined;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const first = join(dir, "first");
const second = join(dir, "second");

afterAll(() => {
  for (const runDir of [first, second]) asNode(runDir, "release_node_lock");
  rmSync(dir, { recursive: true, force: true });
});

describe("one real node per machine", () => {
  it("the first node takes the lock; its holder outlives up.sh and names the node", () => {
    expect(asNode(first, "take_node_lock 0")).toMatchObject({ status: 0 });
    expect(alive(holderPid(first))).toBe(true);
    expect(readFileSync(lock, "utf8").trim()).toBe(first);
    // up.sh run again while the node runs: the same holder, no second one.
    const pid = holderPid(first);
    expect(asNode(first, "take_node_lock 0")).toMatchObject({ status: 0 });
    expect(holderPid(first)).toBe(pid);
  });

  it("a second node waits at most its bound, then fails naming the node that holds the lock", () => {
    const result = asNode(second, "take_node_lock 1");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`the one in ${first}`);
    expect(result.stderr).toContain("npm run node:down");
    expect(holderPid(second)).toBeUndefined();
  });

  it("once down.sh releases it, the second node gets it", () => {
    const pid = holderPid(first);
    expect(asNode(first, "release_node_lock")).toMatchObject({ status: 0 });
    expect(alive(pid)).toBe(false);
    expect(holderPid(first)).toBeUndefined();
    expect(asNode(second, "take_node_lock 0")).toMatchObject({ status: 0 });
    expect(readFileSync(lock, "utf8").trim()).toBe(second);
    expect(asNode(second, "release_node_lock")).toMatchObject({ status: 0 });
  });
});
