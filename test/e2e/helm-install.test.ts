// A real `helm install` and `helm uninstall` of charts/tollgate on the e2e
// control plane, with the chart's Tollgate answering admissions in between.
//
// The control plane has no kubelet, no pod network and no controllers, so the
// test plays their parts, and only theirs:
//   - the kubelet's: it runs the chart's Deployment as a host process, with the
//     container's own arguments and environment, a token of the chart's
//     ServiceAccount (so every API call goes through the chart's RBAC and
//     admission policies), the policy set ConfigMap written to a directory in
//     place of its volume, and the network on loopback (--host 127.0.0.1 and a
//     free port instead of the pod's 0.0.0.0:8443);
//   - the pod network's: the chart's value webhookUrl points the webhooks at
//     https://127.0.0.1:PORT (docs/deploy.md), since the API server cannot
//     reach a Service here; the chart then has the self-managed certificate
//     name 127.0.0.1 (--cert-host);
//   - the namespace controller's: after `helm uninstall` the namespace stays
//     Terminating; the test deletes what Tollgate made at runtime in it (and
//     only that) and finalizes it, as that controller would.
// The other suites' registration (deploy/overlays/localhost, and anything
// else of theirs with the chart's cluster-wide names) is set aside before the
// install and put back afterwards, even when a test fails.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { KubeObject } from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";
import { CHART, helm, helmTemplate } from "../deploy/helm.js";
import { cluster, isLocal, kubeConfig } from "./support/cluster.js";
import { REPO } from "./support/env.js";
import { denialOf, expectSuccess, kubectl, warningsOf, yamlOf } from "./support/kubectl.js";
import { compliantDeployment, compliantPod, privileged } from "./support/manifests.js";
import { createNamespace, uniqueName } from "./support/namespaces.js";
import { registerWebhooks, unlabelledTreatment } from "./support/tollgate.js";

const RELEASE = "tollgate";
const RELEASE_NAMESPACE = "default";
const NAMESPACE = uniqueName("helm");

/** What Tollgate itself creates in its namespace while it runs (not Helm). */
const RUNTIME_OBJECTS = ["secret/tollgate-tls", "lease.coordination.k8s.io/tollgate-audit"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function helmOn(args: string[]) {
  return helm([...args, "--kubeconfig", cluster().kubeconfig]);
}

/** `kind.group/name` as kubectl takes it. */
function ref(o: KubeObject): string {
  const slash = o.apiVersion?.indexOf("/") ?? -1;
  const group = slash >= 0 ? o.apiVersion?.slice(0, slash) : "";
  return `${o.kind?.toLowerCase()}${group ? `.${group}` : ""}/${o.metadata?.name}`;
}

async function read(o: KubeObject): Promise<KubeObject | undefined> {
  const namespace = o.metadata?.namespace ? ["-n", o.metadata.namespace] : [];
  const result = await kubectl(["get", ref(o), ...namespace, "-o", "json"]);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${ref(o)}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as KubeObject;
}

async function until<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  detail: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 90 s\n${detail()}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** Every field the chart rendered is on the stored object with the same value. */
function expectRendered(stored: unknown, rendered: unknown, path: string): void {
  if (Array.isArray(rendered)) {
    expect(Array.isArray(stored), path).toBe(true);
    expect((stored as unknown[]).length, path).toBe(rendered.length);
    rendered.forEach((item, i) => {
      expectRendered((stored as unknown[])[i], item, `${path}[${i}]`);
    });
  } else if (typeof rendered === "object" && rendered !== null) {
    expect(typeof stored, path).toBe("object");
    for (const [key, value] of Object.entries(rendered)) {
      expectRendered((stored as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    expect(stored, path).toEqual(rendered);
  }
}

// --- the other suites' objects with the chart's cluster-wide names -----------

const setAside: KubeObject[] = [];

/** Deletes and remembers what already holds a cluster-scoped name the chart uses. */
async function setAsideClusterObjects(rendered: KubeObject[]): Promise<void> {
  for (const o of rendered.filter((r) => !r.metadata?.namespace && r.kind !== "Namespace")) {
    const stored = await read(o);
    if (!stored) continue;
    const { name, labels, annotations } = stored.metadata ?? {};
    const kept = { ...stored, metadata: { name, labels, annotations } } as KubeObject;
    delete (kept as { status?: unknown }).status;
    setAside.push(kept);
    expectSuccess(await kubectl(["delete", ref(o), "--wait=true"]), `set aside ${ref(o)}`);
    await until(`${ref(o)} deleted`, async () => ((await read(o)) ? undefined : true));
  }
}

async function restoreClusterObjects(): Promise<void> {
  for (const o of setAside.splice(0)) {
    // JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `off` is false.
    expectSuccess(
      await kubectl(["create", "-f", "-"], { input: JSON.stringify(o) }),
      `restore ${ref(o)}`,
    );
  }
}

// --- the chart's Tollgate as a host process -----------------------------------

interface ContainerView {
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

interface RunningTollgate {
  child: ChildProcess;
  output: () => string;
  metricsUrl: string;
}

/**
 * The kubelet's part: the Deployment's container with its own arguments and
 * environment; the differences are listed in the header of this file.
 */
async function runChartTollgate(dir: string, port: number): Promise<RunningTollgate> {
  const deployment = await read({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "tollgate", namespace: NAMESPACE },
  });
  if (!deployment) throw new Error(`no Deployment tollgate in ${NAMESPACE}`);
  const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  const container = (pod.containers as ContainerView[])[0] as ContainerView;
  const volumes = pod.volumes as { name: string; configMap?: { name: string } }[];

  // A service account token for the chart's ServiceAccount, in a kubeconfig.
  const token = expectSuccess(
    await kubectl(["create", "token", "tollgate", "-n", NAMESPACE, "--duration=1h"]),
    "kubectl create token",
  ).stdout.trim();
  const server = kubeConfig().getCurrentCluster();
  const kubeconfigFile = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfigFile,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "e2e",
          cluster: { server: server?.server, "certificate-authority-data": server?.caData },
        },
      ],
      users: [{ name: "tollgate", user: { token } }],
      contexts: [{ name: "tollgate", context: { cluster: "e2e", user: "tollgate" } }],
      "current-context": "tollgate",
    }),
    { mode: 0o600 },
  );

  // Environment: literal values and the downward API's namespace.
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") {
      env[variable.name] = NAMESPACE;
    } else throw new Error(`no host equivalent for env ${variable.name}`);
  }
  // ConfigMap volumes become directories.
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    if (!volume?.configMap) throw new Error(`no host equivalent for volume ${mount.name}`);
    const configMap = await read({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: volume.configMap.name, namespace: NAMESPACE },
    });
    const target = join(dir, mount.name);
    mkdirSync(target);
    for (const [file, text] of Object.entries((configMap?.data ?? {}) as Record<string, string>)) {
      writeFileSync(join(target, file), text);
    }
    mounts.set(mount.mountPath, target);
  }

  const metricsPort = await freePort();
  const network: Record<string, string> = {
    "--host=0.0.0.0": "--host=127.0.0.1",
    "--port=8443": `--port=${port}`,
    "--metrics-port=9090": `--metrics-port=${metricsPort}`,
  };
  const args = container.args.map((arg) => {
    let out = arg.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => env[name] ?? "");
    for (const [path, target] of mounts) out = out.replace(`=${path}/`, `=${target}/`);
    return network[out] ?? out;
  });
  expect(args.filter((a) => Object.keys(network).includes(a))).toEqual([]);

  let output = "";
  const child = spawn(process.execPath, [join(REPO, "dist/src/cli/main.js"), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: kubeconfigFile, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  return { child, output: () => output, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** What the namespace still holds, as `kind.group/name`, Events aside. */
async function leftIn(namespace: string): Promise<string[]> {
  const kinds = expectSuccess(
    await kubectl(["api-resources", "--verbs=list", "--namespaced", "-o", "name"]),
    "kubectl api-resources",
  )
    .stdout.split("\n")
    .filter((k) => k && k !== "events" && k !== "events.events.k8s.io");
  const result = expectSuccess(
    await kubectl(["get", kinds.join(","), "-n", namespace, "-o", "name"]),
    `kubectl get everything -n ${namespace}`,
  );
  return result.stdout.split("\n").filter(Boolean).sort();
}

/** The namespace controller's last step, once the namespace is empty. */
async function finalize(namespace: string): Promise<void> {
  const stored = await read({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  if (!stored) return;
  const body = { ...stored, spec: { finalizers: [] } };
  expectSuccess(
    await kubectl(["replace", "--raw", `/api/v1/namespaces/${namespace}/finalize`, "-f", "-"], {
      input: JSON.stringify(body),
    }),
    `finalize namespace ${namespace}`,
  );
}

describe.runIf(isLocal())("helm install and uninstall of charts/tollgate", () => {
  let dir = "";
  let port = 0;
  let set: string[] = [];
  let rendered: KubeObject[] = [];
  let tollgate: RunningTollgate | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-helm-e2e-"));
    port = await freePort();
    const values = {
      "namespace.name": NAMESPACE,
      webhookUrl: `https://127.0.0.1:${port}`,
      "backgroundAudit.enabled": "true",
      // The suite's images come from a test registry (test/e2e/policyset.yaml).
      // --set replaces a whole list: the shipped two entries are repeated.
      "policySet.policies.trusted-registry.parameters.registries[0]": "mcr.microsoft.com",
      "policySet.policies.trusted-registry.parameters.registries[1]": "ghcr.io/tollgate-dev",
      "policySet.policies.trusted-registry.parameters.registries[2]": "registry.e2e.tollgate.test",
    };
    set = Object.entries(values).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    rendered = helmTemplate(values);
    await setAsideClusterObjects(rendered);
  });

  afterAll(async () => {
    await stop(tollgate?.child);
    // After a failure: take down what is left of the release.
    if (helmOn(["status", RELEASE, "-n", RELEASE_NAMESPACE]).status === 0) {
      helmOn(["uninstall", RELEASE, "-n", RELEASE_NAMESPACE]);
    }
    for (const name of RUNTIME_OBJECTS) await kubectl(["delete", name, "-n", NAMESPACE]);
    await kubectl(["delete", "namespace", NAMESPACE, "--wait=false"]);
    await finalize(NAMESPACE);
    await restoreClusterObjects();
    // The suite's own Tollgate registration, checked to be in force again.
    await registerWebhooks("localhost", await createNamespace("helm-restored"));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a wrong value with values.schema.json's message, creating nothing", async () => {
    const result = helmOn([
      "install",
      RELEASE,
      CHART,
      "-n",
      RELEASE_NAMESPACE,
      ...set,
      "--set",
      "mode=everywhere",
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain("at '/mode': value must be one of 'cluster-wide', 'opt-in'");
    expect(helmOn(["status", RELEASE, "-n", RELEASE_NAMESPACE]).status).not.toBe(0);
    for (const o of rendered) expect(await read(o), ref(o)).toBeUndefined();
  });

  it("installs every object as the chart renders it", async () => {
    const result = helmOn(["install", RELEASE, CHART, "-n", RELEASE_NAMESPACE, ...set]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("STATUS: deployed");
    // The release holds exactly what `helm template` renders with the same values.
    const manifest = helmOn(["get", "manifest", RELEASE, "-n", RELEASE_NAMESPACE]);
    const released = parseManifests(manifest.stdout, "helm get manifest").objects;
    expect(released.map((o) => ref(o.object)).sort()).toEqual(rendered.map(ref).sort());
    for (const o of rendered) {
      const stored = await read(o);
      expect(stored, ref(o)).toBeDefined();
      const { metadata, ...body } = o;
      expectRendered(stored, body, ref(o));
      expectRendered(stored?.metadata?.labels, metadata?.labels ?? {}, `${ref(o)}.metadata.labels`);
      expect(stored?.metadata?.annotations?.["meta.helm.sh/release-name"], ref(o)).toBe(RELEASE);
    }
  });

  it("runs the chart's Tollgate, which takes its certificate and answers admissions", {
    timeout: 300_000,
  }, async () => {
    tollgate = await runChartTollgate(dir, port);
    const running = tollgate;
    // Its own Secret, written with the chart's ServiceAccount.
    const secret = await until(
      "Secret tollgate-tls",
      () =>
        read({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "tollgate-tls", namespace: NAMESPACE },
        }),
      running.output,
    );
    const bundle = (secret.data as Record<string, string>)["ca-bundle.crt"];
    expect(bundle, running.output()).toBeDefined();
    // The caBundle of every webhook, patched through the chart's RBAC and VAPs.
    for (const o of rendered.filter((r) => /WebhookConfiguration$/.test(r.kind ?? ""))) {
      await until(
        `caBundle of ${ref(o)}`,
        async () => {
          const stored = await read(o);
          const webhooks = (stored?.webhooks ?? []) as {
            clientConfig: { caBundle?: string; url?: string };
          }[];
          return webhooks.every((w) => w.clientConfig.caBundle === bundle) ? webhooks : undefined;
        },
        running.output,
      );
    }
    // An unlabelled namespace is enforced and mutated by the chart's webhooks.
    const enforced = await createNamespace("helm");
    let last = "";
    const treatment = await until(
      "the API server calls the chart's Tollgate",
      async () => {
        const now = await unlabelledTreatment(enforced);
        last = now.answer;
        return now.denies && now.mutates ? now : undefined;
      },
      () => `${last}\n${running.output()}`,
    );
    expect(treatment.denies).toBe(true);
    const denied = await kubectl(["apply", "-f", "-"], {
      input: yamlOf(privileged(compliantDeployment("web", enforced))),
    });
    expect(denialOf(denied), denied.stderr).toMatch(/privileged/);
    expectSuccess(
      await kubectl(["apply", "-f", "-"], { input: yamlOf(compliantDeployment("web", enforced)) }),
      "a compliant Deployment",
    );
    // A warn namespace gets warnings, not a denial.
    const warned = await createNamespace("helm", "warn");
    const warning = expectSuccess(
      await kubectl(["apply", "-f", "-"], { input: yamlOf(privileged(compliantPod("p", warned))) }),
      "a privileged Pod in a warn namespace",
    );
    expect(warningsOf(warning).join("\n")).toMatch(/privileged/);
    // The answers came from this process: its own metrics count them.
    const metrics = await (await fetch(running.metricsUrl)).text();
    expect(metrics).toMatch(
      /tollgate_admission_requests_total\{[^}]*kind="Deployment",mode="enforce",decision="denied"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/tollgate_admission_requests_total\{[^}]*mode="warn"[^}]*\} [1-9]/);
  });

  it("runs the background audit with the chart's RBAC: the Lease and PolicyReports", {
    timeout: 200_000,
  }, async () => {
    const running = tollgate as RunningTollgate;
    await until(
      "Lease tollgate-audit",
      () =>
        read({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: "tollgate-audit", namespace: NAMESPACE },
        }),
      running.output,
    );
    const report = await until(
      "a ClusterPolicyReport",
      () =>
        read({
          apiVersion: "wgpolicyk8s.io/v1alpha2",
          kind: "ClusterPolicyReport",
          metadata: { name: "tollgate-audit-cluster" },
        }),
      running.output,
    );
    expect(report.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("tollgate");
    expect(running.output()).not.toMatch(/forbidden/i);
  });

  it("uninstalls to nothing: webhooks, RBAC, CRDs and the namespace", {
    timeout: 300_000,
  }, async () => {
    const result = helmOn(["uninstall", RELEASE, "-n", RELEASE_NAMESPACE]);
    expect(result.status, result.stderr).toBe(0);
    await stop(tollgate?.child);
    expect(helmOn(["status", RELEASE, "-n", RELEASE_NAMESPACE]).status).not.toBe(0);
    const releaseSecrets = await kubectl([
      "get",
      "secrets",
      "-n",
      RELEASE_NAMESPACE,
      "-l",
      `owner=helm,name=${RELEASE}`,
      "-o",
      "name",
    ]);
    expect(releaseSecrets.stdout.trim()).toBe("");
    for (const o of rendered) {
      const stored = await read(o);
      if (o.kind === "Namespace") {
        // Deleted; on a real cluster the namespace controller empties it.
        expect(stored?.metadata?.deletionTimestamp, ref(o)).toBeDefined();
      } else if (o.kind === "CustomResourceDefinition") {
        // The PolicyReport CRDs are part of the release (docs/deploy.md): gone,
        // with every report in them.
        await until(`${ref(o)} deleted`, async () => ((await read(o)) ? undefined : true));
      } else {
        expect(stored, ref(o)).toBeUndefined();
      }
    }
    // Left in the namespace: only what Tollgate made while running.
    expect(await leftIn(NAMESPACE)).toEqual([...RUNTIME_OBJECTS].sort());
    for (const name of RUNTIME_OBJECTS) {
      expectSuccess(await kubectl(["delete", name, "-n", NAMESPACE]), `delete ${name}`);
    }
    await finalize(NAMESPACE);
    const namespace = await read({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: NAMESPACE },
    });
    expect(namespace).toBeUndefined();
  });
});
