// npm run flood [-- --connections 10000] [--seconds 60] [--max-connections N] [--node-options "..."]
//
// Floods one Tollgate replica on loopback with idle and slow connections
// (test/bench/flood/attackers.ts) while a second client keeps sending
// well-formed admissions (test/bench/flood/admissions.ts), and samples the
// server's memory. The replica runs as deploy/ runs it: compiled (dist/,
// built first) under plain node with the Kubernetes client loaded, the
// Deployment's NODE_OPTIONS and, since no cgroup limits it here, the
// connection cap its memory limit gives (--max-connections, as computed in a
// 256 MiB pod). --max-connections and --node-options try other settings.
// Prints the figures; exits 1 when a bound is broken: peak RSS at or over the
// memory limit, an admission that failed, a connection that outlived its
// timeouts, or a server that exited.
//
// Lifetimes are the server's own, from accept to close (flood/lifetimes.ts,
// loaded into the server). The attacker's view is printed beside them but not
// bounded: it starts at connect(), before the kernel lets the server accept,
// and under a flood the accept queue is full and SYNs wait seconds to be sent
// again (flood/kernel.ts counts those).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";
import { parse } from "yaml";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../../src/server/app.js";
import {
  HANDSHAKE_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  maxConnectionsFor,
  TIMEOUT_CHECK_INTERVAL_MS,
} from "../../src/server/connections.js";
import { ADMISSION_ADDRESSES, type AdmissionSample, startAdmissions } from "./flood/admissions.js";
import type { AttackFigures } from "./flood/attackers.js";
import {
  type AcceptQueue,
  acceptQueue,
  LISTEN_COUNTERS,
  type ListenCounters,
  listenCounters,
} from "./flood/kernel.js";
import type { ServerFigures, Stage } from "./flood/lifetimes.js";
import type { MemoryFigures, MemoryUse } from "./flood/memory.js";
import { memoryOf, run, stopChildrenOnExit } from "./lib/processes.js";
import { startTollgate } from "./lib/tollgate-child.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ATTACKERS = fileURLToPath(new URL("flood/attackers.ts", import.meta.url));
/** Loaded into the server: its own account of connection lifetimes and of its memory. */
const SERVER_HOOKS = ["lifetimes", "memory"].map((name) =>
  fileURLToPath(new URL(`flood/${name}.ts`, import.meta.url)),
);
/** Time around the flood with admissions only: the baseline before, the recovery after. */
const QUIET_MS = 5_000;
/**
 * Scheduling on a busy machine: a timeout may fire this much late, or as
 * late as the server's longest event-loop stall, and still count as kept.
 */
const SLACK_MS = 3_000;
const MiB = 2 ** 20;

const REQUEST_BOUND_MS = DEFAULT_REQUEST_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS;
/**
 * The timeout that runs in each stage a connection can close in
 * (flood/lifetimes.ts); the bound on its time there is this plus slack. A
 * connection that was answered is the admission client's, kept alive on purpose.
 */
const STAGE_TIMEOUT_MS: Record<Stage, number | undefined> = {
  handshake: HANDSHAKE_TIMEOUT_MS,
  // TLS then silence ends at the idle timeout, slow headers at the request timeout.
  "no-request": Math.max(IDLE_TIMEOUT_MS, REQUEST_BOUND_MS),
  unanswered: REQUEST_BOUND_MS,
  answered: undefined,
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

/**
 * A hook for the compiled server, which runs without tsx: the TypeScript file
 * (node built-ins only) as a JavaScript module in `dir`.
 */
function compileHook(file: string, dir: string): string {
  const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(dir, `${file.split("/").at(-1)?.replace(/\.ts$/, "")}.mjs`);
  writeFileSync(out, outputText);
  return out;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/** RSS split into the V8 heap, Node's external memory and the rest. */
function memorySplit(p: MemoryUse): string {
  const native = p.rss - p.heapTotal - p.external;
  return `RSS ${mib(p.rss)} = V8 heap ${mib(p.heapTotal)} (${mib(p.heapUsed)} live or not yet collected) + external ${mib(p.external)} (array buffers ${mib(p.arrayBuffers)}) + outside both ${mib(native)} (OpenSSL, malloc, code, stacks)`;
}

/** Where the server's memory was before the flood and at its highest RSS sample, and its collections. */
function memoryLines(before: MemoryUse, m: MemoryFigures): string[] {
  return [
    `server memory (process.memoryUsage every 100 ms) before the flood: ${memorySplit(before)}`,
    `  at its highest sample: ${memorySplit(m.atPeak)}`,
    `  highest of each: heap ${mib(m.highest.heapTotal)} (used ${mib(m.highest.heapUsed)}), external ${mib(m.highest.external)}; V8 heap limit ${mib(m.heapLimit)}; collections: ${m.gc.minor} minor, ${m.gc.major} major, longest pause ${m.gc.longestPauseMs.toFixed(0)} ms`,
  ];
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The smallest whole second s with at least half of the closed connections living under s + 1. */
function medianSecond(bySecond: readonly number[], closed: number): number {
  let seen = 0;
  for (const [second, count] of bySecond.entries()) {
    seen += count;
    if (seen * 2 >= closed) return second;
  }
  return 0;
}

function admissionLine(label: string, samples: readonly AdmissionSample[]): string {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const failed = samples.filter((s) => !s.ok);
  const reasons = [...new Set(failed.map((s) => s.error))].slice(0, 3).join("; ");
  return `  ${label.padEnd(30)} ${String(samples.length).padStart(6)} sent ${String(samples.length - failed.length).padStart(6)} answered ${String(failed.length).padStart(4)} failed   p50 ${quantile(ms, 0.5).toFixed(1)} ms  p99 ${quantile(ms, 0.99).toFixed(1)} ms  max ${(ms.at(-1) ?? 0).toFixed(1)} ms${reasons ? `  (${reasons})` : ""}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      connections: { type: "string" },
      seconds: { type: "string" },
      // To try other settings than deploy/base's (docs/server.md#flooding).
      "max-connections": { type: "string" },
      "node-options": { type: "string" },
    },
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
  if (values["node-options"] !== undefined) pod.nodeOptions = values["node-options"];
  const max = Number(values["max-connections"] ?? maxConnectionsFor(pod.limitBytes));
  const flags = ["--max-connections", String(max), "--metrics-port", "0"];
  process.stdout.write(
    `flood: tollgate serve ${flags.join(" ")} with NODE_OPTIONS=${pod.nodeOptions} (deploy/base: memory limit ${pod.limitBytes / MiB} MiB)\n` +
      `flood: ${connections} idle and slow connections for ${seconds} s, admissions before, during and after\n`,
  );
  stopChildrenOnExit();
  // The server as the image runs it: compiled, plain node.
  await run("npm", ["run", "-s", "build"], { cwd: ROOT, timeoutMs: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), "tollgate-flood-"));
  const lifetimesFile = join(dir, "lifetimes.json");
  const memoryFile = join(dir, "memory.json");
  const server = await startTollgate(
    flags,
    {
      NODE_OPTIONS: pod.nodeOptions,
      TOLLGATE_FLOOD_LIFETIMES: lifetimesFile,
      TOLLGATE_FLOOD_MEMORY: memoryFile,
      TOLLGATE_FLOOD_CLIENTS: JSON.stringify({
        "new connection each": ADMISSION_ADDRESSES.fresh,
        "keep-alive": ADMISSION_ADDRESSES.kept,
      }),
    },
    {
      built: true,
      nodeArgs: [
        // deploy/base serves with --manage-certs, which loads the Kubernetes
        // client (tens of MiB); --no-cluster here would not.
        "--import",
        "@kubernetes/client-node",
        ...SERVER_HOOKS.flatMap((hook) => ["--import", compileHook(hook, dir)]),
      ],
    },
  );
  const port = Number(new URL(server.url).port);
  const rssSeries: number[] = [];
  const sampler = setInterval(() => {
    const memory = memoryOf(server.pid);
    if (memory) rssSeries.push(memory.rssMb);
  }, 200);
  const queueSeries: AcceptQueue[] = [];
  const queueSampler = setInterval(() => {
    acceptQueue(port).then((q) => q && queueSeries.push(q));
  }, 1_000);
  try {
    const admissions = startAdmissions(server.url, server.ca);
    await new Promise((done) => setTimeout(done, QUIET_MS));
    const memoryBefore = (JSON.parse(readFileSync(memoryFile, "utf8")) as MemoryFigures).latest;
    const floodStarted = performance.now();
    const kernelBefore = listenCounters();
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", ATTACKERS, JSON.stringify({ port, connections, seconds })],
      { cwd: ROOT, timeoutMs: (seconds + 120) * 1000 },
    );
    const floodEnded = performance.now();
    const kernelAfter = listenCounters();
    await new Promise((done) => setTimeout(done, QUIET_MS));
    await admissions.stop();
    clearInterval(sampler);
    clearInterval(queueSampler);
    const attack = JSON.parse(stdout.trim()) as AttackFigures;
    // Written every second by the server: QUIET_MS later it covers the whole flood.
    const onServer = JSON.parse(readFileSync(lifetimesFile, "utf8")) as ServerFigures;
    const memoryUse = JSON.parse(readFileSync(memoryFile, "utf8")) as MemoryFigures;
    const metrics = server.metricsUrl ? await scrape(server.metricsUrl) : "";
    const memory = memoryOf(server.pid);
    const alive =
      (await Promise.race([server.started.exited, Promise.resolve(undefined)])) === undefined;

    const broken: string[] = [];
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const delay = (d: AttackFigures["eventLoopDelay"]) =>
      `event-loop delay mean ${d.meanMs.toFixed(0)} ms, p99 ${d.p99Ms.toFixed(0)} ms, max ${d.maxMs.toFixed(0)} ms`;
    const lines = [
      "",
      `connections on the server, by the stage they closed in (the server's clock; ${delay(onServer.eventLoopDelay)})`,
    ];
    const slack = Math.max(SLACK_MS, onServer.eventLoopDelay.maxMs);
    for (const f of onServer.stages) {
      const timeout = STAGE_TIMEOUT_MS[f.stage];
      const bound = timeout === undefined ? undefined : timeout + slack;
      if (bound !== undefined && f.maxInStageMs > bound)
        broken.push(
          `a ${f.stage} connection stayed ${s(f.maxInStageMs)} in that stage, over ${s(bound)}`,
        );
      lines.push(
        `  ${f.stage.padEnd(11)} ${String(f.closed).padStart(7)} closed  in that stage at most ${s(f.maxInStageMs)} (bound ${bound === undefined ? "none: kept alive" : s(bound)})  accept to close p50 < ${medianSecond(f.closedBySecond, f.closed) + 1} s, max ${s(f.maxMs)}  ${f.open} open at the end`,
      );
    }
    lines.push(
      "",
      `attackers (their own clock, from connect(): includes waiting to be accepted; not bounded)  ${delay(attack.eventLoopDelay)}`,
    );
    for (const k of attack.kinds) {
      lines.push(
        `  ${k.kind.padEnd(13)} ${String(k.slots).padStart(5)} slots ${String(k.opened).padStart(7)} opened ${String(k.closedByServer).padStart(7)} closed by the server  peak open ${String(k.peakOpen).padStart(5)}  lifetime p50 ${s(k.lifetimeP50Ms)}, max ${s(k.lifetimeMaxMs)}  TCP connected p50 ${s(k.connectP50Ms)}, max ${s(k.connectMaxMs)}${k.kind === "tcp-idle" ? "" : `  TLS done p50 ${s(k.handshakeP50Ms)}, max ${s(k.handshakeMaxMs)}`}  ${k.bytesTrickled} bytes trickled`,
      );
    }
    const queue = queueSeries.reduce((most, q) => Math.max(most, q.waiting), 0);
    lines.push(
      `  kernel during the flood: ${LISTEN_COUNTERS.map((name: keyof ListenCounters) => `${name} +${kernelAfter[name] - kernelBefore[name]}`).join(", ")}; accept queue up to ${queue} of ${queueSeries[0]?.backlog ?? "?"} waiting (sampled each second)`,
    );
    const shed = [
      ...metrics.matchAll(/^tollgate_connections_shed_total\{reason="([^"]+)"\} (\d+)/gm),
    ]
      .map((m) => `${m[1]} ${m[2]}`)
      .join(", ");
    lines.push(`  shed by the server's cap: ${shed || "none"}`);
    for (const c of onServer.clients) {
      lines.push(
        `  the admission client's connections (${c.client}) on the server: ${c.accepted} accepted, ${c.closedInHandshake} closed by the server before their TLS handshake was done, ${c.closedUnread} of them before a byte was read (within ${c.closedUnreadMaxMs.toFixed(0)} ms of the accept at most)`,
      );
    }
    const peak = memory?.peakRssMb ?? Number.NaN;
    const limitMb = pod.limitBytes / MiB;
    if (!(peak < limitMb)) broken.push(`peak RSS ${peak.toFixed(0)} MiB, limit ${limitMb} MiB`);
    if (!alive) broken.push("the server exited");
    lines.push(
      "",
      `server memory: RSS ${(rssSeries[0] ?? 0).toFixed(0)} MiB at start, ${Math.max(...rssSeries).toFixed(0)} MiB highest sample, peak (VmHWM) ${peak.toFixed(0)} MiB of the ${limitMb} MiB limit`,
      ...memoryLines(memoryBefore, memoryUse),
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
    clearInterval(queueSampler);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`flood: ${error.message}\n`);
    process.exit(2);
  },
);
