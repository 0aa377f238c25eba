// What the benchmark ran on, and whether anything else was running.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  go: string | undefined;
  opa: string | undefined;
  loadAverage: number[];
}

function quiet(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

export function machineInfo(goBinary: string, opaBinary: string | undefined): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: quiet("uname", ["-sr"]) ?? process.platform,
    node: process.version,
    go: quiet(goBinary, ["version"])?.replace(/^go version /, ""),
    opa: opaBinary
      ? quiet(opaBinary, ["version"])
          ?.split("\n")[0]
          ?.replace(/^Version:\s*/, "")
      : undefined,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

export function ticksPerSecond(): number {
  return Number(quiet("getconf", ["CLK_TCK"]) ?? 100) || 100;
}

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, v) => sum + v, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy over `ms`, 0–100. */
export async function busyPercent(ms = 1_000): Promise<number> {
  const before = cpuTimes();
  await new Promise((done) => setTimeout(done, ms));
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * 100 : 0;
}

/** The busiest other processes right now, for the report: `name (pid) cpu%`. */
export function busyProcesses(limit = 5): string[] {
  const out = quiet("ps", ["-eo", "pid,pcpu,comm", "--sort=-pcpu", "--no-headers"]);
  if (!out) return [];
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, pcpu]) => Number(pid) !== process.pid && Number(pcpu) >= 5)
    .slice(0, limit)
    .map(([pid, pcpu, comm]) => `${comm} (${pid}) ${pcpu}%`);
}

/**
 * Waits, at most `maxWaitMs`, for the machine to be quiet (under `threshold`
 * percent busy over a second). Returns what it last measured.
 */
export async function waitForQuiet(
  maxWaitMs: number,
  threshold: number,
  log: (line: string) => void,
): Promise<{ busyPercent: number; quiet: boolean; others: string[] }> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await busyPercent();
  let reported = false;
  while (busy >= threshold && Date.now() < deadline) {
    if (!reported) {
      log(
        `machine busy (${busy.toFixed(0)}% of all cores); waiting up to ${Math.round(maxWaitMs / 1000)}s: ${busyProcesses().join(", ")}`,
      );
      reported = true;
    }
    busy = await busyPercent(2_000);
  }
  return { busyPercent: Math.round(busy), quiet: busy < threshold, others: busyProcesses() };
}

interface ProcSample {
  ppid: number;
  ticks: number;
  name: string;
}

function describeProcess(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const base = (arg: string | undefined) => (arg ?? "").split("/").pop() ?? "";
    const program = base(argv[0]);
    if (program === "node" || program === "npm" || program === "npx") {
      const inline = argv.find(
        (a) => a === "-e" || a === "--eval" || a === "-p" || a === "--print",
      );
      if (inline) return `${program} ${inline}`;
      const script = argv.slice(1).find((a) => !a.startsWith("-"));
      const next = script ? argv[argv.indexOf(script) + 1] : undefined;
      const rest = next && !next.startsWith("-") ? ` ${next.split("/").pop()}` : "";
      return `${program} ${base(script)}${rest}`.trim();
    }
    return program || "?";
  } catch {
    return "?";
  }
}

function sampleProcesses(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        name: "",
      });
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

export interface OtherLoad {
  /** CPU other processes used during the run, as a share of all cores. */
  percentOfMachine: number;
  /** The busiest of them, with the CPU seconds each used. */
  top: { name: string; cpuSec: number }[];
}

/**
 * Watches every process that is not this one or one of its children, and
 * adds up the CPU they use until `stop` is called: what else ran.
 */
export function watchOtherLoad(intervalMs = 2_000): { stop: () => OtherLoad } {
  const ticks = ticksPerSecond();
  const started = Date.now();
  const used = new Map<string, number>();
  const names = new Map<number, string>();
  let previous = sampleProcesses();
  const tick = () => {
    const current = sampleProcesses();
    const ours = new Set<number>([process.pid]);
    // Children appear after their parents in pid order only usually; iterate to a fixed point.
    for (let changed = true; changed; ) {
      changed = false;
      for (const [pid, p] of current) {
        if (!ours.has(pid) && ours.has(p.ppid)) {
          ours.add(pid);
          changed = true;
        }
      }
    }
    for (const [pid, p] of current) {
      if (ours.has(pid)) continue;
      const delta = p.ticks - (previous.get(pid)?.ticks ?? p.ticks);
      if (delta <= 0) continue;
      let name = names.get(pid);
      if (!name) {
        name = describeProcess(String(pid));
        names.set(pid, name);
      }
      used.set(name, (used.get(name) ?? 0) + delta / ticks);
    }
    previous = current;
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      const wall = (Date.now() - started) / 1000;
      const total = [...used.values()].reduce((sum, v) => sum + v, 0);
      return {
        percentOfMachine: wall > 0 ? Math.round((total / wall / cpus().length) * 1000) / 10 : 0,
        top: [...used]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .filter(([, sec]) => sec >= 0.5)
          .map(([name, sec]) => ({ name, cpuSec: Math.round(sec * 10) / 10 })),
      };
    },
  };
}
