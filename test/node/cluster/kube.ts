// kubectl against the one-node cluster (test/node/up.sh). The suite runs
// inside the node's network namespace (test/node/exec.sh), where KUBECONFIG
// and the control plane's kubectl are set up.
import { spawnSync } from "node:child_process";
import { parse, stringify } from "yaml";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const KUBECTL = process.env.TOLLGATE_NODE_KUBECTL ?? "kubectl";

export function kubectl(args: readonly string[], input?: unknown): Result {
  const text =
    input === undefined ? undefined : typeof input === "string" ? input : stringify(input);
  const r = spawnSync(KUBECTL, args, { input: text, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** kubectl that must succeed; returns stdout. */
export function must(args: readonly string[], input?: unknown): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export function json<T = Record<string, unknown>>(args: readonly string[]): T {
  return JSON.parse(must([...args, "-o", "json"])) as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check returns a value other than undefined, or throws with the last state. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached in ${timeoutMs} ms (${String(last ?? "")})`);
    await sleep(1000);
  }
}

/** A namespace with the given tollgate.dev/mode label (none: enforced). */
export function namespace(name: string, mode?: string): string {
  kubectl(["delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
  must(["create", "namespace", name]);
  if (mode) must(["label", "namespace", name, `tollgate.dev/mode=${mode}`]);
  return name;
}

/** Lets the policy set trust the node's own images (tollgate.local), once. */
export async function trustNodeImages(): Promise<void> {
  const cm = json<{ data: Record<string, string> }>([
    "-n",
    "tollgate-system",
    "get",
    "configmap",
    "tollgate-policyset",
  ]);
  const set = parse(cm.data["policyset.yaml"] as string) as {
    policies: { "trusted-registry": { parameters: { registries: string[] } } };
  };
  const registries = set.policies["trusted-registry"].parameters.registries;
  if (!registries.includes("tollgate.local")) {
    registries.push("tollgate.local");
    cm.data["policyset.yaml"] = stringify(set);
    must(["apply", "-f", "-"], cm);
  }
  // The replicas reload the mounted file; the kubelet refreshes it within a minute.
  // The API server picks a replica per call, so only a long run of admissions
  // says every replica has reloaded: 30 in a row miss one of three replicas
  // with a chance of 3 × (2/3)^30, about 2 in 100,000.
  namespace("trust-probe");
  await until("every replica trusts tollgate.local", 150_000, () => {
    for (let i = 0; i < 30; i++) {
      const r = kubectl([
        "-n",
        "trust-probe",
        "run",
        "probe",
        "--image=tollgate.local/busybox:root",
        "--dry-run=server",
      ]);
      if (r.stderr.includes("trusted-registry")) return undefined;
    }
    return true;
  });
  kubectl(["delete", "namespace", "trust-probe", "--wait=false"]);
}

/** A Deployment of a busybox image from the node, compliant with the default policy set. */
export function busyboxDeployment(
  name: string,
  ns: string,
  image: string,
  securityContext: Record<string, unknown>,
): Record<string, unknown> {
  const labels = { "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "app",
              image,
              imagePullPolicy: "Never",
              command: ["sleep", "3600"],
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
              securityContext: { readOnlyRootFilesystem: true },
              livenessProbe: { exec: { command: ["true"] }, periodSeconds: 10 },
              readinessProbe: { exec: { command: ["true"] }, periodSeconds: 2 },
              lifecycle: { preStop: { sleep: { seconds: 1 } } },
            },
          ],
        },
      },
    },
  };
}

export const TOLLGATE_NAMESPACE = "tollgate-system";
export const TOLLGATE_SELECTOR = "app.kubernetes.io/name=tollgate";

interface TollgateDeployment {
  metadata: { generation: number };
  spec: { replicas: number };
  status: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

export function tollgateDeployment(): TollgateDeployment {
  return json<TollgateDeployment>(["-n", TOLLGATE_NAMESPACE, "get", "deployment", "tollgate"]);
}

/** The Deployment has rolled out completely: every replica updated, ready and available, no old ones left. */
export function rolledOut(d: TollgateDeployment = tollgateDeployment()): boolean {
  const { status, spec, metadata } = d;
  return (
    (status.observedGeneration ?? 0) >= metadata.generation &&
    (status.replicas ?? 0) === spec.replicas &&
    (status.updatedReplicas ?? 0) === spec.replicas &&
    (status.readyReplicas ?? 0) === spec.replicas &&
    (status.availableReplicas ?? 0) === spec.replicas
  );
}

export interface TollgatePod {
  metadata: { name: string; deletionTimestamp?: string };
  status: { phase?: string; podIP?: string };
}

export function tollgatePods(): TollgatePod[] {
  return json<{ items: TollgatePod[] }>([
    "-n",
    TOLLGATE_NAMESPACE,
    "get",
    "pods",
    "-l",
    TOLLGATE_SELECTOR,
  ]).items;
}

/** A Pod that enforce mode denies (privileged), for a server-side dry run. */
export function privilegedPod(ns: string, name = "priv"): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: {
      containers: [
        { name: "c", image: "tollgate.local/busybox:root", securityContext: { privileged: true } },
      ],
    },
  };
}

export const DENIED_BY_TOLLGATE = 'admission webhook "enforce.tollgate.dev" denied the request';

/**
 * Waits until Tollgate itself answers in an enforced namespace, 30 times in a
 * row (so every replica the API server may pick does): the dry run of a
 * privileged pod is denied by enforce.tollgate.dev, not failed.
 */
export async function tollgateJudges(ns: string, timeoutMs = 240_000): Promise<void> {
  await until("Tollgate denies in an enforced namespace", timeoutMs, () => {
    for (let i = 0; i < 30; i++) {
      const r = kubectl(["create", "--dry-run=server", "-f", "-"], privilegedPod(ns));
      if (!r.stderr.includes(DENIED_BY_TOLLGATE)) throw new Error(r.stderr.trim());
    }
    return true;
  });
}

/** What a client saw while it kept applying objects (see admissionRound). */
export interface AdmissionLoad {
  compliant: number;
  violating: number;
  failures: string[];
}

export const newAdmissionLoad = (): AdmissionLoad => ({ compliant: 0, violating: 0, failures: [] });

/**
 * Round `i` of a client's continuous load in an enforced namespace: applies a
 * compliant Deployment (zero replicas), which must be admitted, and every
 * other round dry-runs a privileged pod, which Tollgate itself must deny.
 * Anything else (a failed call, a timeout, a denial by no one) is a failure.
 */
export function admissionRound(load: AdmissionLoad, ns: string, i: number): void {
  const d = busyboxDeployment(`load-${i}`, ns, "tollgate.local/busybox:root", { runAsUser: 10001 });
  (d.spec as { replicas: number }).replicas = 0;
  const applied = kubectl(["apply", "-f", "-"], d);
  load.compliant++;
  if (applied.code !== 0) load.failures.push(`load-${i}: ${applied.stderr.trim()}`);
  if (i % 2 !== 0) return;
  const denied = kubectl(["create", "--dry-run=server", "-f", "-"], privilegedPod(ns, `priv-${i}`));
  load.violating++;
  if (denied.code === 0 || !denied.stderr.includes(DENIED_BY_TOLLGATE)) {
    load.failures.push(`priv-${i}: exit ${denied.code}: ${denied.stderr.trim()}`);
  }
}

/** The path of a kustomization under the repository, for kubectl apply -k. */
export function repoPath(relative: string): string {
  return new URL(`../../../${relative}`, import.meta.url).pathname;
}

/** Puts back the Tollgate of `npm run node:up` (deploy/overlays/node) and waits for it. */
export async function restoreNodeOverlay(): Promise<void> {
  must(["apply", "-k", repoPath("deploy/overlays/node")]);
  await until("tollgate rolled out", 400_000, () => (rolledOut() ? true : undefined));
}
