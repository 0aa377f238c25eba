// What the kernel saw of the flood, for npm run flood: whether connections
// waited to be accepted. Counters are for the whole network namespace, so
// other loopback traffic on the machine counts too (little beside a flood).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";

/** TcpExt counters of /proc/net/netstat that tell of a full accept queue. */
export const LISTEN_COUNTERS = ["ListenOverflows", "ListenDrops", "TCPSynRetrans"] as const;
export type ListenCounters = Record<(typeof LISTEN_COUNTERS)[number], number>;

export function listenCounters(): ListenCounters {
  const lines = readFileSync("/proc/net/netstat", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("TcpExt:"));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const counters = {} as ListenCounters;
  for (const name of LISTEN_COUNTERS) counters[name] = Number(values[names.indexOf(name)] ?? 0);
  return counters;
}

export interface AcceptQueue {
  /** Connections established and waiting for the server to accept them. */
  waiting: number;
  /** The listen backlog: at most this many wait; SYNs past it are dropped. */
  backlog: number;
}

/** The accept queue of the TCP listener on 127.0.0.1:`port` (`ss -l`: Recv-Q, Send-Q). */
export function acceptQueue(port: number): Promise<AcceptQueue | undefined> {
  return new Promise((resolve) => {
    execFile("ss", ["-Hltn", `sport = :${port}`], (error, stdout) => {
      const fields = error ? [] : stdout.trim().split(/\s+/);
      resolve(
        fields.length >= 3 ? { waiting: Number(fields[1]), backlog: Number(fields[2]) } : undefined,
      );
    });
  });
}
