// Controlling the Tollgate process and its webhook registration on the local
// control plane (start-tollgate.sh started it; its pid file says which it is).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cluster, localCluster } from "./cluster.js";
import { CONTROLPLANE_DIR, REPO } from "./env.js";
import { denialOf, kubectl, type Result, yamlOf } from "./kubectl.js";
import { compliantPod, privileged, withPodSpec } from "./manifests.js";

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The pid in Tollgate's pid file, if the process is alive. */
export function tollgatePid(): number | undefined {
  const { pidFile } = localCluster();
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Stops Tollgate (SIGTERM, as down.sh does) and waits until the process is gone. */
export async function stopTollgate(): Promise<void> {
  const pid = tollgatePid();
  if (pid === undefined) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(localCluster().pidFile, { force: true });
      return;
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  process.kill(pid, "SIGKILL");
  rmSync(localCluster().pidFile, { force: true });
}

/**
 * Starts Tollgate again on the port recorded in the env file, with the same
 * certificate, and waits for /readyz. The webhook configurations are left as
 * they are: nothing else is needed for the API server to use it again.
 * `policySet` replaces test/e2e/policyset.yaml for this run of the process.
 */
export async function startTollgate(policySet?: string): Promise<void> {
  const { runDir } = localCluster();
  const result = await run("bash", [join(CONTROLPLANE_DIR, "start-tollgate.sh"), "--no-register"], {
    TOLLGATE_E2E_RUN_DIR: runDir,
    ...(policySet ? { TOLLGATE_E2E_POLICYSET: policySet } : {}),
  });
  if (result.code !== 0) {
    throw new Error(`start-tollgate.sh failed (exit ${result.code}):\n${result.stderr}`);
  }
}

export type Overlay = "localhost" | "localhost-opt-in";

/** `deploy/overlays/<overlay>/render.sh PORT CA` as text (the shipped manifests). */
export async function renderWebhooks(overlay: Overlay): Promise<string> {
  const { webhookPort, caFile } = localCluster();
  const binary = cluster().kubectl;
  const result = await run(
    "sh",
    [join(REPO, "deploy/overlays", overlay, "render.sh"), String(webhookPort), caFile],
    { KUBECTL: binary },
  );
  if (result.code !== 0) throw new Error(`render.sh ${overlay} failed:\n${result.stderr}`);
  return result.stdout;
}

/**
 * Where the API server stands for an unlabelled namespace: does the enforce
 * webhook refuse a privileged pod, and does the mutating webhook set
 * automountServiceAccountToken on a pod without it? Both by server-side
 * dry-run, so nothing is stored.
 */
export async function unlabelledTreatment(
  namespace: string,
): Promise<{ denies: boolean; mutates: boolean; answer: string }> {
  const denial = await kubectl(["create", "--dry-run=server", "-f", "-"], {
    input: yamlOf(privileged(compliantPod("tollgate-probe", namespace))),
  });
  const unset = withPodSpec(compliantPod("tollgate-probe", namespace), (spec) => {
    delete spec.automountServiceAccountToken;
  });
  const mutation = await kubectl(["create", "--dry-run=server", "-o", "json", "-f", "-"], {
    input: yamlOf(unset),
  });
  const returned =
    mutation.code === 0 ? (JSON.parse(mutation.stdout) as { spec?: Record<string, unknown> }) : {};
  return {
    denies: denialOf(denial) !== undefined,
    mutates: returned.spec?.automountServiceAccountToken === false,
    answer: `${denial.stderr}${mutation.stderr}`,
  };
}

/**
 * Applies the overlay's webhook configurations, then waits until the API
 * server acts on both the mutating and the enforce configuration: an
 * unlabelled namespace (`probeNamespace`) is enforced and mutated with
 * `localhost` (cluster-wide), and left alone with `localhost-opt-in`.
 */
export async function registerWebhooks(overlay: Overlay, probeNamespace: string): Promise<void> {
  const rendered = await renderWebhooks(overlay);
  const applied = await kubectl(["apply", "-f", "-"], { input: rendered });
  if (applied.code !== 0) throw new Error(`applying ${overlay} failed:\n${applied.stderr}`);
  const wanted = overlay === "localhost";
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = await unlabelledTreatment(probeNamespace);
    if (now.denies === wanted && now.mutates === wanted) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the API server did not pick up ${overlay} within 30 s (denies ${now.denies}, mutates ${now.mutates}):\n${now.answer}`,
      );
    }
    await new Promise((done) => setTimeout(done, 250));
  }
}
