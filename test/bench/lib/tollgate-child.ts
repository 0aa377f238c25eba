// `tollgate serve` from source as a child process on loopback, for the tools
// that attack it (npm run fuzz, npm run flood): its real flags, its log in a
// file, its address read from its own "listening" line.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Started, start, stop } from "./processes.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface TollgateChild {
  started: Started;
  pid: number;
  /** https://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port>/metrics with --metrics-port. */
  metricsUrl: string | undefined;
  /** The development CA the server generated. */
  ca: string;
  /** The server's JSON log lines at `level` (pino level names). */
  logLines(level: string): string[];
  /** SIGTERM, then SIGKILL; removes the state directory. */
  stop(): Promise<void>;
}

interface Listening {
  url: string;
  metricsUrl?: string;
}

function listeningLine(logFile: string): Listening | undefined {
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (line.includes('"msg":"listening"')) return JSON.parse(line) as Listening;
  }
  return undefined;
}

export interface ChildOptions {
  /** Given to node (after tsx from source, so they may name TypeScript). */
  nodeArgs?: readonly string[];
  /**
   * Run the compiled server (dist/, `npm run build` first) with plain node,
   * as the image runs it, instead of the source through tsx: tsx's loader
   * thread is a second V8 heap, about 36 MiB of RSS a pod does not have.
   */
  built?: boolean;
}

/**
 * Starts `tollgate serve --host 127.0.0.1 --port 0 --no-cluster
 * --drain-delay 0` plus `args`, with `env` added to the environment, and
 * resolves once it listens (at most 120 s: a busy machine is slow to load
 * TypeScript).
 */
export async function startTollgate(
  args: readonly string[],
  env: Record<string, string> = {},
  { nodeArgs = [], built = false }: ChildOptions = {},
): Promise<TollgateChild> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-child-"));
  const logFile = join(dir, "server.log");
  const out = openSync(logFile, "w");
  let started: Started;
  try {
    started = start(
      process.execPath,
      [
        ...(built ? nodeArgs : ["--import", "tsx", ...nodeArgs]),
        built ? "dist/src/cli/main.js" : "src/cli/main.ts",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--state-dir",
        join(dir, "state"),
        "--no-cluster",
        "--drain-delay",
        "0",
        ...args,
      ],
      { cwd: ROOT, stdio: ["ignore", out, "pipe"], env: { ...process.env, ...env } },
    );
  } finally {
    closeSync(out);
  }
  const cleanUp = async () => {
    await stop(started, 15_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  let listening: Listening | undefined;
  while (!listening) {
    const exited = await Promise.race([
      started.exited,
      new Promise((done) => setTimeout(done, 200)),
    ]);
    if (exited !== undefined || Date.now() > deadline) {
      await cleanUp();
      throw new Error(
        `tollgate serve did not start (${exited ?? "120 s"}):\n${started.stderr().slice(-3000)}`,
      );
    }
    listening = listeningLine(logFile);
  }
  return {
    started,
    pid: started.pid,
    url: listening.url,
    metricsUrl: listening.metricsUrl,
    ca: readFileSync(join(dir, "state", "ca.crt"), "utf8"),
    logLines: (level) =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => line.includes(`"level":"${level}"`)),
    stop: cleanUp,
  };
}
