// vitest globalSetup of the e2e project: decides which cluster the suite runs
// against and makes sure Tollgate answers there, once for all test files.
//
// Local (default): the loopback control plane of test/e2e/controlplane, in
// $TOLLGATE_E2E_RUN_DIR (default test/e2e/.run), through `npm run cluster:up`:
//   - not running: build, etcd + kube-apiserver, then start-tollgate.sh as
//     up.sh's hook;
//   - already running: reused; the build runs, and start-tollgate.sh restarts a
//     Tollgate older than the build and applies the shipped cluster-wide
//     registration again (an interrupted run may have left opt-in behind).
//   TOLLGATE_E2E_REUSE_TOLLGATE=1 skips the build (start-tollgate.sh only), for
//   quick iterations on the tests themselves.
//   The cluster is left running afterwards: `npm run cluster:down` stops it.
//
// External: TOLLGATE_E2E_KUBECONFIG=FILE, or KUBECONFIG together with
// TOLLGATE_E2E_CLUSTER set to anything but `local` (test/e2e/kind/kind.sh's env
// file sets TOLLGATE_E2E_CLUSTER=kind). Nothing is started; Tollgate must
// already be installed there (e.g. `kubectl apply -k deploy/overlays/cluster-wide`).
// kubectl: TOLLGATE_E2E_KUBECTL, else test/e2e/.run/bin/kubectl, else PATH.
// Audit log: TOLLGATE_E2E_AUDIT_LOG when readable.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  CONTROLPLANE_DIR,
  DEFAULT_RUN_DIR,
  type E2ECluster,
  type LocalDetails,
  REPO,
  readable,
  readEnvFile,
} from "./env.js";

function log(message: string): void {
  process.stdout.write(`[e2e] ${message}\n`);
}

/** Runs a command with its output shown; throws with the command line on failure. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: REPO, env, stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    throw new Error(
      `e2e setup: \`${[command, ...args].join(" ")}\` failed (exit ${result.status ?? result.signal}) after ${seconds}s`,
    );
  }
  log(`${[command, ...args].join(" ")}: ${seconds}s`);
}

/** True when the API server behind `kubeconfig` answers /readyz. */
function apiServerReady(kubectl: string, kubeconfig: string): boolean {
  const result = spawnSync(kubectl, ["--kubeconfig", kubeconfig, "get", "--raw", "/readyz"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  return result.status === 0 && result.stdout.trim() === "ok";
}

function externalKubeconfig(): string | undefined {
  if (process.env.TOLLGATE_E2E_KUBECONFIG) return process.env.TOLLGATE_E2E_KUBECONFIG;
  const flag = process.env.TOLLGATE_E2E_CLUSTER;
  if (flag && flag !== "local") {
    if (!process.env.KUBECONFIG) {
      throw new Error(`e2e setup: TOLLGATE_E2E_CLUSTER=${flag} needs KUBECONFIG`);
    }
    return process.env.KUBECONFIG;
  }
  return undefined;
}

function external(kubeconfig: string): E2ECluster {
  const built = join(DEFAULT_RUN_DIR, "bin/kubectl");
  const kubectl = process.env.TOLLGATE_E2E_KUBECTL || (existsSync(built) ? built : "kubectl");
  if (!apiServerReady(kubectl, kubeconfig)) {
    throw new Error(`e2e setup: the API server of ${kubeconfig} is not ready (${kubectl})`);
  }
  const webhook = spawnSync(
    kubectl,
    ["--kubeconfig", kubeconfig, "get", "validatingwebhookconfiguration", "tollgate-enforce"],
    { encoding: "utf8", timeout: 10_000 },
  );
  if (webhook.status !== 0) {
    throw new Error(
      `e2e setup: Tollgate is not installed in ${kubeconfig} (${webhook.stderr.trim()}); ` +
        "install it first, e.g. kubectl apply -k deploy/overlays/cluster-wide",
    );
  }
  const auditLog = process.env.TOLLGATE_E2E_AUDIT_LOG;
  log(`external cluster ${kubeconfig}; kubectl ${kubectl}; audit log ${auditLog ?? "none"}`);
  return {
    kind: "external",
    kubeconfig,
    kubectl,
    auditLog: readable(auditLog) ? auditLog : undefined,
  };
}

function local(): E2ECluster {
  const runDir = process.env.TOLLGATE_E2E_RUN_DIR || DEFAULT_RUN_DIR;
  const envFile = join(runDir, "env");
  const env = { ...process.env, TOLLGATE_E2E_RUN_DIR: runDir };
  const started = Date.now();
  if (process.env.TOLLGATE_E2E_REUSE_TOLLGATE === "1" && existsSync(envFile)) {
    log(`reusing the control plane in ${runDir} without a build`);
    run("bash", [join(CONTROLPLANE_DIR, "start-tollgate.sh")], env);
  } else {
    log(`npm run cluster:up (state in ${runDir})`);
    run("npm", ["run", "--silent", "cluster:up"], env);
  }
  log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const values = readEnvFile(envFile);
  const need = (name: string): string => {
    const value = values[name];
    if (!value) throw new Error(`e2e setup: ${envFile} has no ${name}`);
    return value;
  };
  const details: LocalDetails = {
    runDir,
    envFile,
    caFile: need("TOLLGATE_E2E_CA_CERT"),
    webhookPort: Number(need("TOLLGATE_E2E_WEBHOOK_PORT")),
    pidFile: join(need("TOLLGATE_E2E_PID_DIR"), "tollgate.pid"),
    logFile: join(need("TOLLGATE_E2E_LOG_DIR"), "tollgate.log"),
  };
  return {
    kind: "local",
    kubeconfig: need("KUBECONFIG"),
    kubectl: need("TOLLGATE_E2E_KUBECTL"),
    auditLog: need("TOLLGATE_E2E_AUDIT_LOG"),
    local: details,
  };
}

export default function setup(project: TestProject): void {
  const kubeconfig = externalKubeconfig();
  const chosen = kubeconfig ? external(kubeconfig) : local();
  project.provide("e2eCluster", chosen);
}
