// `tollgate audit` at scale: starts the loopback control plane of the e2e
// suite in its own run directory, creates Deployments and a ReplicaSet owned
// by each (50 namespaces × 1,000 Deployments by default: 100,000 objects),
// then runs the built CLI (`node dist/src/cli/main.js audit -o json`) under
// /usr/bin/time for its wall time, CPU time and peak RSS, and stops the
// control plane. Loopback only; the number of objects and every wait are
// bounded. Needs `npm run build` first.
//
//   npx tsx test/bench/audit-scale.ts [--namespaces 50] [--per-namespace 1000] [--in-flight 32]
//                                     [--page-size N]...
//
// Each --page-size runs one more audit of the same objects with that
// --page-size (the CLI's default when none is given); the figures are listed
// in that order under `audits`; the target is judged on the first.
//
// Prints the figures with the load average and writes them to
// test/bench/.run/audit-scale.json. docs/audit.md has the latest run.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RUN_DIR = join(ROOT, "test/bench/.run/audit-scale");
const CONTROL_PLANE = join(ROOT, "test/e2e/controlplane");
/** Whole seeding phase; past it the run stops with what it has. */
const SEED_DEADLINE_MS = 20 * 60_000;
const AUDIT_TIMEOUT_MS = 10 * 60_000;

const { values } = parseArgs({
  options: {
    namespaces: { type: "string", default: "50" },
    "per-namespace": { type: "string", default: "1000" },
    "in-flight": { type: "string", default: "32" },
    "page-size": { type: "string", multiple: true },
  },
});
const namespaces = Number(values.namespaces);
const perNamespace = Number(values["per-namespace"]);
const inFlight = Number(values["in-flight"]);

function log(line: string): void {
  process.stderr.write(`[audit-scale] ${line}\n`);
}

const cli = join(ROOT, "dist/src/cli/main.js");
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);

const env = { ...process.env, TOLLGATE_E2E_RUN_DIR: RUN_DIR };
mkdirSync(RUN_DIR, { recursive: true });

interface Cluster {
  host: string;
  port: number;
  kubeconfig: string;
  agent: Agent;
}

function clusterOf(): Cluster {
  const vars = Object.fromEntries(
    readFileSync(join(RUN_DIR, "env"), "utf8")
      .split("\n")
      .map((line) => /^export (\w+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], (m[2] ?? "").replace(/^'(.*)'$/, "$1")]),
  );
  const pki = vars.TOLLGATE_E2E_PKI_DIR as string;
  return {
    host: "127.0.0.1",
    port: Number(vars.TOLLGATE_E2E_APISERVER_PORT),
    kubeconfig: vars.KUBECONFIG as string,
    agent: new Agent({
      keepAlive: true,
      maxSockets: inFlight,
      ca: readFileSync(join(pki, "ca.crt")),
      cert: readFileSync(join(pki, "admin.crt")),
      key: readFileSync(join(pki, "admin.key")),
    }),
  };
}

/** POSTs one object; resolves with the created object, rejects on any status but 201. */
function create(cluster: Cluster, path: string, body: unknown): Promise<Record<string, unknown>> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: cluster.host,
        port: cluster.port,
        agent: cluster.agent,
        method: "POST",
        path,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 201) resolve(JSON.parse(text));
          else reject(new Error(`POST ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`POST ${path}: no answer in 60 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

function podTemplate(app: string) {
  return {
    metadata: { labels: { app } },
    spec: {
      containers: [
        {
          name: "app",
          image: `contoso.azurecr.io/${app}:1.0.3`,
          resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "64Mi" } },
        },
      ],
    },
  };
}

/** One Deployment and the ReplicaSet it owns, as the controller would have made it. */
async function createPair(cluster: Cluster, namespace: string, name: string): Promise<void> {
  const apps = `/apis/apps/v1/namespaces/${namespace}`;
  const spec = {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: podTemplate(name),
  };
  const deployment = await create(cluster, `${apps}/deployments`, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec,
  });
  const uid = (deployment.metadata as { uid: string }).uid;
  await create(cluster, `${apps}/replicasets`, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${name}-7c9f`,
      labels: { app: name },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid, controller: true }],
    },
    spec,
  });
}

/** Runs `work` on every item with at most `limit` at once; stops at the deadline. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  deadline: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) {
      const item = items[next++] as T;
      await work(item);
      done++;
      if (done % 5000 === 0) log(`${done} of ${items.length} created`);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return done;
}

function audit(cluster: Cluster, pageSize: string | undefined) {
  const out = join(RUN_DIR, "audit.json");
  const fd = openSync(out, "w");
  const started = Date.now();
  const child = spawnSync(
    "/usr/bin/time",
    [
      "-f",
      "time: %e %U %S %M",
      process.execPath,
      cli,
      "audit",
      "--kubeconfig",
      cluster.kubeconfig,
      "-o",
      "json",
      ...(pageSize ? ["--page-size", pageSize] : []),
    ],
    { cwd: ROOT, stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: AUDIT_TIMEOUT_MS },
  );
  closeSync(fd);
  const measured = /time: ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(child.stderr ?? "");
  if (!measured) throw new Error(`audit did not finish (exit ${child.status}): ${child.stderr}`);
  const doc = JSON.parse(readFileSync(out, "utf8"));
  return {
    pageSize: pageSize ?? "default",
    exitCode: child.status,
    wallSeconds: Number(measured[1]),
    cpuSeconds: Math.round((Number(measured[2]) + Number(measured[3])) * 100) / 100,
    maxRssMiB: Math.round(Number(measured[4]) / 1024),
    clockSeconds: (Date.now() - started) / 1000,
    findings: Array.isArray(doc.findings) ? doc.findings.length : undefined,
    outputMiB: Math.round(readFileSync(out).length / 2 ** 20),
  };
}

const loadBefore = loadavg().map((l) => l.toFixed(2));
log(`control plane in ${RUN_DIR}`);
execFileSync(join(CONTROL_PLANE, "up.sh"), { env, stdio: ["ignore", "inherit", "inherit"] });
try {
  const cluster = clusterOf();
  const names = Array.from({ length: namespaces }, (_, i) => `scale-${i}`);
  for (const name of names) {
    await create(cluster, "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
  }
  const pairs = names.flatMap((namespace) =>
    Array.from({ length: perNamespace }, (_, i) => ({ namespace, name: `app-${i}` })),
  );
  const seedStarted = Date.now();
  const created = await eachLimited(pairs, inFlight, seedStarted + SEED_DEADLINE_MS, (p) =>
    createPair(cluster, p.namespace, p.name),
  );
  const seedSeconds = (Date.now() - seedStarted) / 1000;
  cluster.agent.destroy();
  log(`created ${created} Deployments and as many ReplicaSets in ${seedSeconds.toFixed(0)} s`);
  const loadBeforeAudit = loadavg().map((l) => l.toFixed(2));
  const figures = {
    namespaces,
    deployments: created,
    replicaSets: created,
    objects: 2 * created,
    seedSeconds: Math.round(seedSeconds),
    audits: (values["page-size"] ?? [undefined]).map((size) => audit(cluster, size)),
    loadAverage: {
      atStart: loadBefore,
      beforeAudit: loadBeforeAudit,
      after: loadavg().map((l) => l.toFixed(2)),
    },
    target: "≤ 60 s and ≤ 300 MB RSS for 100,000 objects",
  };
  const { wallSeconds, maxRssMiB } = figures.audits[0] as ReturnType<typeof audit>;
  const holds = figures.objects >= 100_000 && wallSeconds <= 60 && maxRssMiB * 1.048576 <= 300;
  writeFileSync(
    join(ROOT, "test/bench/.run/audit-scale.json"),
    `${JSON.stringify(figures, null, 2)}\n`,
  );
  process.stdout.write(
    `${JSON.stringify(figures, null, 2)}\ntarget ${holds ? "holds" : "does not hold"}\n`,
  );
} finally {
  execFileSync(join(CONTROL_PLANE, "down.sh"), ["--clean"], {
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
}
