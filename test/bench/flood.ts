// npm run flood [-- --connections 10000] [--seconds 60]
//
// Floods one Tollgate replica on loopback with idle and slow connections
// (test/bench/flood/attackers.ts) while a second client keeps sending
// well-formed admissions (test/bench/flood/admissions.ts), and samples the
// server's memory. The replica runs as deploy/ runs it: the Deployment's
// NODE_OPTIONS and, since no cgroup limits it here, the connection cap its
// memory limit gives (--max-connections, as computed in a 256 MiB pod).
// Prints the figures; exits 1 when a bound is broken: peak RSS at or over the
// memory limit, an admission that failed, a connection that outlived its
// timeout, or a server that exited.
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../../src/server/app.js";
import {
  HANDSHAKE_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  maxConnectionsFor,
  TIMEOUT_CHECK_INTERVAL_MS,
} from "../../src/server/connections.js";
import { type AdmissionSample, startAdmissions } from "./flood/admissions.js";
import type { AttackKind, KindFigures } from "./flood/attackers.js";
import { memoryOf, run, stopChildrenOnExit } from "./lib/processes.js";
import { startTollgate } from "./lib/tollgate-child.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ATTACKERS = fileURLToPath(new URL("flood/attackers.ts", import.meta.url));
/** Time around the flood with admissions only: the baseline before, the recovery after. */
const QUIET_MS = 5_000;
/** Scheduling on a busy machine: a timeout may fire this much late and still count as kept. */
const SLACK_MS = 3_000;
const MiB = 2 ** 20;

/** How long each kind may live, by the server's own timeouts. */
const LIFETIME_BOUND_MS: Record<AttackKind, number> = {
  "tcp-idle": HANDSHAKE_TIMEOUT_MS + SLACK_MS,
  "tls-silent": IDLE_TIMEOUT_MS + SLACK_MS,
  "slow-headers": DEFAULT_REQUEST_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS + SLACK_MS,
  "slow-body": DEFAULT_REQUEST_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS + SLACK_MS,
};

interface Pod {
  limitBytes: number;
  nodeOptions: string;
}

/** The memory limit and NODE_OPTIONS of deploy/base's Tollgate container. */
function podSettings(): Pod {
  const deployment = parse(readFileSync(`${ROOT}deploy/base/deployment.yaml`, "utf8")) as {
    spec: {
      template: {
        spec: {
          containers: {
            env?: { name: string; value?: string }[];
            resources: { limits: { memory: string } };
          }[];
        };
      };
    };
  };
  const [container] = deployment.spec.template.spec.containers;
  const memory = /^(\d+)(Mi|Gi)$/.exec(container?.resources.limits.memory ?? "");
  if (!container || !memory)
    throw new Error("deploy/base/deployment.yaml: no memory limit in Mi or Gi");
  const nodeOptions = container.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
  return { limitBytes: Number(memory[1]) * (memory[2] === "Gi" ? 1024 : 1) * MiB, nodeOptions };
}

/** The hard limit on open files: Node raises its soft limit to it. */
function openFileLimit(): number {
  const line = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  return line?.[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(line?.[1] ?? 0);
}

function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => resolve(text));
    }).on("error", reject);
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function admissionLine(label: string, samples: readonly AdmissionSample[]): string {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const failed = samples.filter((s) => !s.ok);
  const reasons = [...new Set(failed.map((s) => s.error))].slice(0, 3).join("; ");
  return `  ${label.padEnd(30)} ${String(samples.length).padStart(6)} sent ${String(samples.length - failed.length).padStart(6)} answered ${String(failed.length).padStart(4)} failed   p50 ${quantile(ms, 0.5).toFixed(1)} ms  p99 ${quantile(ms, 0.99).toFixed(1)} ms  max ${(ms.at(-1) ?? 0).toFixed(1)} ms${reasons ? `  (${reasons})` : ""}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { connections: { type: "string" }, seconds: { type: "string" } },
  });
  const connections = Number(values.connections ?? 10_000);
  const seconds = Number(values.seconds ?? 60);
  if (
    !Number.isInteger(connections) ||
    connections < 4 ||
    !Number.isInteger(seconds) ||
    seconds < 15
  ) {
    throw new Error("--connections must be a whole number of at least 4, --seconds at least 15");
  }
  const files = openFileLimit();
  if (files < connections + 1_024) {
    throw new Error(
      `${connections} connections need ulimit -n of at least ${connections + 1_024} (hard limit now ${files})`,
    );
  }
  const pod = podSettings();
  const max = maxConnectionsFor(pod.limitBytes);
  const flags = ["--max-connections", String(max), "--metrics-port", "0"];
  process.stdout.write(
    `flood: tollgate serve ${flags.join(" ")} with NODE_OPTIONS=${pod.nodeOptions} (deploy/base: memory limit ${pod.limitBytes / MiB} MiB)\n` +
      `flood: ${connections} idle and slow connections for ${seconds} s, admissions before, during and after\n`,
  );
  stopChildrenOnExit();
  const server = await startTollgate(flags, { NODE_OPTIONS: pod.nodeOptions });
  const rssSeries: number[] = [];
  const sampler = setInterval(() => {
    const memory = memoryOf(server.pid);
    if (memory) rssSeries.push(memory.rssMb);
  }, 200);
  try {
    const admissions = startAdmissions(server.url, server.ca);
    await new Promise((done) => setTimeout(done, QUIET_MS));
    const floodStarted = performance.now();
    const { stdout } = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        ATTACKERS,
        JSON.stringify({ port: new URL(server.url).port, connections, seconds }),
      ],
      { cwd: ROOT, timeoutMs: (seconds + 120) * 1000 },
    );
    const floodEnded = performance.now();
    await new Promise((done) => setTimeout(done, QUIET_MS));
    await admissions.stop();
    clearInterval(sampler);
    const kinds = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as KindFigures);
    const metrics = server.metricsUrl ? await scrape(server.metricsUrl) : "";
    const memory = memoryOf(server.pid);
    const alive =
      (await Promise.race([server.started.exited, Promise.resolve(undefined)])) === undefined;

    const broken: string[] = [];
    const lines = ["", "attackers (closed by the server: how long they lived)"];
    for (const k of kinds) {
      const bound = LIFETIME_BOUND_MS[k.kind];
      const longest = Math.max(k.lifetimeMaxMs, k.oldestOpenMs);
      if (longest > bound)
        broken.push(`${k.kind} lived ${longest.toFixed(0)} ms, over ${bound} ms`);
      lines.push(
        `  ${k.kind.padEnd(13)} ${String(k.slots).padStart(5)} slots ${String(k.opened).padStart(7)} opened ${String(k.closedByServer).padStart(7)} closed by the server  peak open ${String(k.peakOpen).padStart(5)}  lifetime p50 ${(k.lifetimeP50Ms / 1000).toFixed(1)} s, max ${(k.lifetimeMaxMs / 1000).toFixed(1)} s, oldest still open ${(k.oldestOpenMs / 1000).toFixed(1)} s (bound ${bound / 1000} s)  ${k.bytesTrickled} bytes trickled`,
      );
    }
    const shed = [
      ...metrics.matchAll(/^tollgate_connections_shed_total\{reason="([^"]+)"\} (\d+)/gm),
    ]
      .map((m) => `${m[1]} ${m[2]}`)
      .join(", ");
    lines.push(`  shed by the server's cap: ${shed || "none"}`);
    const peak = memory?.peakRssMb ?? Number.NaN;
    const limitMb = pod.limitBytes / MiB;
    if (!(peak < limitMb)) broken.push(`peak RSS ${peak.toFixed(0)} MiB, limit ${limitMb} MiB`);
    if (!alive) broken.push("the server exited");
    lines.push(
      "",
      `server memory: RSS ${(rssSeries[0] ?? 0).toFixed(0)} MiB at start, ${Math.max(...rssSeries).toFixed(0)} MiB highest sample, peak (VmHWM) ${peak.toFixed(0)} MiB of the ${limitMb} MiB limit`,
      "",
      "admissions (POST /validate, each answer checked for its uid)",
    );
    const phases = [
      ["before the flood", (s: AdmissionSample) => s.at < floodStarted],
      ["during the flood", (s: AdmissionSample) => s.at >= floodStarted && s.at < floodEnded],
      ["after the flood", (s: AdmissionSample) => s.at >= floodEnded],
    ] as const;
    for (const [label, inPhase] of phases) {
      for (const fresh of [false, true]) {
        const samples = admissions.samples.filter((s) => inPhase(s) && s.fresh === fresh);
        lines.push(
          admissionLine(`${label}, ${fresh ? "new connection each" : "keep-alive"}`, samples),
        );
      }
    }
    const failed = admissions.samples.filter((s) => !s.ok).length;
    if (failed > 0) broken.push(`${failed} admissions failed`);
    const answeredDuring = admissions.samples.filter(
      (s) => s.ok && s.at >= floodStarted && s.at < floodEnded,
    ).length;
    if (answeredDuring === 0) broken.push("no admission was answered during the flood");
    lines.push(
      "",
      broken.length === 0 ? "flood: every bound held" : `flood: BROKEN: ${broken.join("; ")}`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
    return broken.length === 0 ? 0 : 1;
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`flood: ${error.message}\n`);
    process.exit(2);
  },
);
