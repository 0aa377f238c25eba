import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { httpStatusOf, kubeStatusOf } from "../../src/cluster/api-errors.js";
import { KubeConfigError, loadKubeConfig } from "../../src/cluster/kubeconfig.js";
import { clusterNamespaceDirectory } from "../../src/cluster/namespaces.js";

const dir = mkdtempSync(join(tmpdir(), "tollgate-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const NO_CLUSTER = file(
  "no-cluster",
  "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
);
const BROKEN = file("broken", "clusters: [\n");
const WORKING = file(
  "working",
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443' } }]",
    "users: [{ name: u, user: { token: t } }]",
    "contexts: [{ name: x, context: { cluster: c, user: u } }]",
    "current-context: x",
  ].join("\n"),
);

function problemOf(load: () => unknown): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    if (!(error instanceof KubeConfigError)) throw error;
    return `${error.problem}: ${error.message}`;
  }
}

describe("loadKubeConfig", () => {
  it("loads the named file", () => {
    expect(loadKubeConfig(WORKING).getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("names the file and the problem in one line", () => {
    expect(problemOf(() => loadKubeConfig(join(dir, "absent")))).toBe(
      `no-such-file: kubeconfig ${join(dir, "absent")}: no such file`,
    );
    expect(problemOf(() => loadKubeConfig(BROKEN))).toMatch(
      new RegExp(`^unusable: kubeconfig ${BROKEN}: cannot be used: [^\\n]+$`),
    );
    expect(problemOf(() => loadKubeConfig(NO_CLUSTER))).toBe(
      `no-current-cluster: kubeconfig ${NO_CLUSTER}: no current context with a cluster; set current-context or pass --kubeconfig`,
    );
  });

  it("follows KUBECONFIG, and refuses client-node's localhost:8080 fallback", () => {
    vi.stubEnv("KUBECONFIG", WORKING);
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    vi.stubEnv("KUBECONFIG", "");
    vi.stubEnv("HOME", join(dir, "no-home"));
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "");
    expect(problemOf(() => loadKubeConfig())).toMatch(/^none-found: no kubeconfig found: /);
  });
});

describe("clusterNamespaceDirectory through loadKubeConfig", () => {
  it("is absent for a kubeconfig without a cluster and fails for an unreadable one", () => {
    vi.stubEnv("KUBECONFIG", NO_CLUSTER);
    expect(clusterNamespaceDirectory()).toBeUndefined();
    vi.stubEnv("KUBECONFIG", BROKEN);
    expect(() => clusterNamespaceDirectory()).toThrow(KubeConfigError);
    vi.stubEnv("KUBECONFIG", WORKING);
    const directory = clusterNamespaceDirectory();
    expect(directory).toBeDefined();
    directory?.close();
  });
});

describe("api-errors", () => {
  const exception = (code: number, body: unknown) =>
    new ApiException(code, "Unknown API Status Code!", body, {});

  it("reads the HTTP status of an API answer and nothing else", () => {
    expect(httpStatusOf(exception(409, "{}"))).toBe(409);
    expect(httpStatusOf(Object.assign(new Error("refused"), { code: 404 }))).toBeUndefined();
  });

  it("reads the Kubernetes Status from a text or an object body", () => {
    const status = { kind: "Status", reason: "Expired", metadata: { continue: "next" } };
    expect(kubeStatusOf(exception(410, JSON.stringify(status)))?.metadata?.continue).toBe("next");
    expect(kubeStatusOf(exception(410, status))?.reason).toBe("Expired");
    expect(kubeStatusOf(exception(404, "404 page not found"))).toBeUndefined();
    expect(kubeStatusOf(new Error("not an API answer"))).toBeUndefined();
  });
});
