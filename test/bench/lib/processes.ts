// Child processes of the benchmark: every one started here is tracked and
// stopped at the end, on failure, and on Ctrl-C or SIGTERM.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const running = new Set<ChildProcess>();

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Settles with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stderr so far (kept for error messages). */
  stderr: () => string;
}

/** Starts a process and tracks it until it exits. */
export function start(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Started {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | string>((done) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      done(code ?? signal ?? "unknown");
    });
    child.on("error", (error) => {
      running.delete(child);
      stderr += `\n${error.message}`;
      done("error");
    });
  });
  return { child, pid: child.pid, exited, stderr: () => stderr };
}

/** SIGTERM, then SIGKILL when the process is still there after `graceMs`. */
export async function stop(started: Started, graceMs = 3_000): Promise<void> {
  if (!running.has(started.child)) return;
  started.child.kill("SIGTERM");
  const timer = new Promise<"timeout">((done) =>
    setTimeout(() => done("timeout"), graceMs).unref(),
  );
  if ((await Promise.race([started.exited, timer])) === "timeout") {
    started.child.kill("SIGKILL");
    await started.exited;
  }
}

/** Runs a command to completion, streaming or collecting its output; rejects on failure. */
export async function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { echo?: (line: string) => void; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const { echo, timeoutMs = 600_000, ...spawnOptions } = options;
  const started = start(command, args, spawnOptions);
  let stdout = "";
  let pending = "";
  const emit = (chunk: string) => {
    if (!echo) return;
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) echo(line);
  };
  started.child.stdout?.setEncoding("utf8");
  started.child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
    emit(chunk);
  });
  started.child.stderr?.on("data", (chunk: string) => emit(chunk));
  const timer = setTimeout(() => started.child.kill("SIGKILL"), timeoutMs);
  const code = await started.exited;
  clearTimeout(timer);
  if (pending && echo) echo(pending);
  if (code !== 0) {
    const output = started.stderr().trim() || stdout.trim();
    const tail = output.split("\n").slice(-15).join("\n");
    throw new Error(`${command} ${args.join(" ")} failed (${code})${tail ? `:\n${tail}` : ""}`);
  }
  return { stdout, stderr: started.stderr() };
}

/** Stops everything still running; used on every way out. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map((child) =>
      stop({ child, pid: child.pid ?? 0, exited: exitOf(child), stderr: () => "" }, 2_000),
    ),
  );
}

function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode ?? "unknown");
  }
  return new Promise((done) => child.once("exit", (code, signal) => done(code ?? signal ?? "")));
}

let installed = false;

/** Stops every child on Ctrl-C, SIGTERM, SIGHUP and uncaught errors, then exits. */
export function stopChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  const bail = (why: string, code: number) => {
    process.stderr.write(`\nbench: ${why}; stopping ${running.size} child process(es)\n`);
    void stopAll().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => bail("interrupted", 130));
  process.once("SIGTERM", () => bail("terminated", 143));
  process.once("SIGHUP", () => bail("hung up", 129));
  process.once("uncaughtException", (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    bail("uncaught error", 1);
  });
  process.once("exit", () => {
    // Last resort, synchronous: nothing may outlive the bench.
    for (const child of running) child.kill("SIGKILL");
  });
}

/** Peak resident set (VmHWM) and current resident set (VmRSS) of a process, in MiB. */
export function memoryOf(pid: number): { peakRssMb: number; rssMb: number } | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { peakRssMb: kib("VmHWM") / 1024, rssMb: kib("VmRSS") / 1024 };
}

/** CPU time the process has used (user + system), in seconds. */
export function cpuSecondsOf(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticksPerSecond;
}
