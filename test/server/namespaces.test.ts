import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterConfigured } from "../../src/cluster/kubeconfig.js";
import {
  CachedNamespaceDirectory,
  clusterNamespaceDirectory,
  namespaceLabelFetcher,
} from "../../src/cluster/namespaces.js";
import type { KubeObject } from "../../src/engine/index.js";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { labelModeResolver, namespaceObjectLookup } from "../../src/server/mode.js";
import {
  type NamespaceLabels,
  parseNamespaceMode,
  resolveMode,
} from "../../src/server/namespace-mode.js";
import { admit, LogCapture, reviewOf, sleep, testApp } from "./support.js";

const settings = { defaultMode: "enforce", modeLabel: "tollgate.dev/mode" } as const;

describe("resolveMode", () => {
  it("reads the mode label and falls back to the default", () => {
    expect(resolveMode({ "tollgate.dev/mode": "warn" }, settings)).toBe("warn");
    expect(resolveMode({ "tollgate.dev/mode": "off" }, settings)).toBe("off");
    expect(resolveMode({ "tollgate.dev/mode": "Enforce" }, settings)).toBe("enforce");
    expect(resolveMode({ "tollgate.dev/mode": "audit" }, { ...settings, defaultMode: "off" })).toBe(
      "audit",
    );
    expect(resolveMode({ other: "warn" }, { ...settings, defaultMode: "audit" })).toBe("audit");
    expect(resolveMode(undefined, { ...settings, defaultMode: "off" })).toBe("off");
    expect(resolveMode({ "x.io/m": "warn" }, { ...settings, modeLabel: "x.io/m" })).toBe("warn");
  });

  it("knows the four modes and nothing else", () => {
    expect(["enforce", "warn", "audit", "off"].map(parseNamespaceMode)).toEqual([
      "enforce",
      "warn",
      "audit",
      "off",
    ]);
    expect(parseNamespaceMode("dryrun")).toBeUndefined();
    expect(parseNamespaceMode(1)).toBeUndefined();
  });
});

describe("namespaceObject for CEL policies", () => {
  const policies = resolvePolicySet(
    [],
    {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      celPolicies: [
        {
          id: "team-namespace",
          action: "deny",
          match: { kinds: ["ConfigMap"] },
          validations: [
            {
              expression:
                "namespaceObject != null && namespaceObject.metadata.labels.?team.orValue('') == object.metadata.?labels.?team.orValue('-')",
              messageExpression:
                "request.userInfo.username + ' (' + request.userInfo.uid + '): the team label must be ' + namespaceObject.?metadata.?labels.?team.orValue('unset')",
            },
          ],
        },
      ],
    },
    "test policy set",
  );
  const directory = {
    labelsOf: (name: string) =>
      name === "missing"
        ? Promise.resolve(undefined)
        : name === "broken"
          ? Promise.reject(new Error("dial tcp: refused"))
          : Promise.resolve({ team: "shop" }),
    close() {},
  };
  const configMap = (namespace: string, team: string): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace, labels: { team } },
  });
  const userInfo = { username: "jo", uid: "42", groups: ["dev"], extra: { scopes: ["a"] } };

  it("is the request's Namespace from the directory, with the sender in request.userInfo", async () => {
    const logs = new LogCapture();
    const { app } = testApp({
      policies,
      namespaceObject: namespaceObjectLookup(directory, logs.logger),
    });
    const ok = await admit(app, "/validate", reviewOf(configMap("apps", "shop"), { userInfo }));
    expect(ok.allowed).toBe(true);
    const denied = await admit(app, "/validate", reviewOf(configMap("apps", "web"), { userInfo }));
    expect(denied.allowed).toBe(false);
    expect(denied.status?.message).toContain("jo (42): the team label must be shop");
    // Unknown or unreadable namespaces give null, which this policy denies.
    for (const ns of ["missing", "broken"]) {
      const reply = await admit(app, "/validate", reviewOf(configMap(ns, "shop"), { userInfo }));
      expect(reply.allowed).toBe(false);
      expect(reply.status?.message).toContain("the team label must be unset");
    }
    expect(
      logs.withMessage("namespace lookup failed; CEL policies see namespaceObject null"),
    ).toHaveLength(1);
  });

  it("is null when the server has no namespace directory", async () => {
    const { app } = testApp({ policies });
    const reply = await admit(app, "/validate", reviewOf(configMap("apps", "shop"), { userInfo }));
    expect(reply.allowed).toBe(false);
  });
});

describe("labelModeResolver", () => {
  it("uses the default for cluster-scoped objects and when the lookup fails", async () => {
    const logs = new LogCapture();
    const resolver = labelModeResolver(
      { labelsOf: () => Promise.reject(new Error("dial tcp: refused")), close() {} },
      logs.logger,
    );
    expect(await resolver(undefined, { ...settings, defaultMode: "warn" })).toBe("warn");
    expect(await resolver("apps", { ...settings, defaultMode: "audit" })).toBe("audit");
    expect(logs.withMessage("namespace lookup failed; using the default mode")[0]).toMatchObject({
      namespace: "apps",
      error: "dial tcp: refused",
    });
  });
});

describe("CachedNamespaceDirectory", () => {
  function fakeClock() {
    let now = 1_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  }

  it("asks once per namespace, serves from cache, and refreshes stale entries in the background", async () => {
    const clock = fakeClock();
    const calls: string[] = [];
    let labels: NamespaceLabels = { "tollgate.dev/mode": "warn" };
    const directory = new CachedNamespaceDirectory(
      async (namespace) => {
        calls.push(namespace);
        return labels;
      },
      { ttlMs: 1_000, now: clock.now },
    );
    const [a, b] = await Promise.all([directory.labelsOf("apps"), directory.labelsOf("apps")]);
    expect(a).toEqual({ "tollgate.dev/mode": "warn" });
    expect(b).toEqual(a);
    expect(calls).toEqual(["apps"]);
    expect(await directory.labelsOf("apps")).toEqual(a);
    expect(calls).toEqual(["apps"]);

    labels = { "tollgate.dev/mode": "enforce" };
    clock.advance(1_001);
    // Stale: answered at once with the old labels while a refresh runs.
    expect(await directory.labelsOf("apps")).toEqual({ "tollgate.dev/mode": "warn" });
    await sleep(0);
    expect(calls).toEqual(["apps", "apps"]);
    expect(await directory.labelsOf("apps")).toEqual({ "tollgate.dev/mode": "enforce" });
    directory.close();
  });

  it("gives up after the timeout, remembers the failure briefly, and reports it once", async () => {
    const clock = fakeClock();
    const errors: string[] = [];
    let calls = 0;
    const directory = new CachedNamespaceDirectory(
      (_namespace, signal) => {
        calls++;
        return new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason as Error));
        });
      },
      {
        timeoutMs: 50,
        errorTtlMs: 5_000,
        now: clock.now,
        onError: (namespace, error) => errors.push(`${namespace}: ${error.name}`),
      },
    );
    // The fetch never settles: an answer at all means the timeout gave up on it.
    expect(await directory.labelsOf("apps")).toBeUndefined();
    expect(errors).toEqual(["apps: TimeoutError"]);
    // Remembered: no second wait, no second report.
    expect(await directory.labelsOf("apps")).toBeUndefined();
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    directory.close();
  });

  it("keeps the last known labels when a refresh fails", async () => {
    const clock = fakeClock();
    let fail = false;
    const directory = new CachedNamespaceDirectory(
      async () => {
        if (fail) throw new Error("503");
        return { "tollgate.dev/mode": "audit" };
      },
      { ttlMs: 100, now: clock.now, onError: () => {} },
    );
    expect(await directory.labelsOf("apps")).toEqual({ "tollgate.dev/mode": "audit" });
    fail = true;
    clock.advance(200);
    await directory.labelsOf("apps");
    await sleep(0);
    expect(await directory.labelsOf("apps")).toEqual({ "tollgate.dev/mode": "audit" });
    directory.close();
  });

  it("holds at most maxEntries namespaces", async () => {
    const calls: string[] = [];
    const directory = new CachedNamespaceDirectory(
      async (namespace) => {
        calls.push(namespace);
        return {};
      },
      { maxEntries: 2 },
    );
    for (const namespace of ["a", "b", "c", "a"]) await directory.labelsOf(namespace);
    expect(calls).toEqual(["a", "b", "c", "a"]);
    directory.close();
  });
});

describe("the cluster adapter", () => {
  let server: Server;
  let kubeConfig: KubeConfig;
  const seen: { url: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url ?? "", authorization: request.headers.authorization });
      const name = /^\/api\/v1\/namespaces\/([^/?]+)/.exec(request.url ?? "")?.[1];
      if (name === "slow") return; // never answers
      response.setHeader("content-type", "application/json");
      if (name === "apps") {
        response.end(
          JSON.stringify({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name, labels: { "tollgate.dev/mode": "warn" } },
          }),
        );
        return;
      }
      response.statusCode = 404;
      response.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "tollgate", token: "test-token" }],
      contexts: [{ name: "fake", cluster: "fake", user: "tollgate" }],
      currentContext: "fake",
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads labels with the client's credentials, and treats 404 as unknown", async () => {
    const fetch = namespaceLabelFetcher(kubeConfig);
    expect(await fetch("apps", AbortSignal.timeout(2_000))).toEqual({
      "tollgate.dev/mode": "warn",
    });
    expect(await fetch("missing", AbortSignal.timeout(2_000))).toBeUndefined();
    expect(seen[0]).toEqual({ url: "/api/v1/namespaces/apps", authorization: "Bearer test-token" });
  });

  it("aborts a lookup that takes too long", async () => {
    const fetch = namespaceLabelFetcher(kubeConfig);
    // "slow" never answers, so only the abort can end the lookup.
    await expect(fetch("slow", AbortSignal.timeout(100))).rejects.toThrow();
  });

  it("drives the webhook's mode through the cached directory", async () => {
    const directory = clusterNamespaceDirectory({ kubeConfig, timeoutMs: 100, onError: () => {} });
    expect(directory).toBeDefined();
    if (!directory) return;
    const resolver = labelModeResolver(directory);
    expect(await resolver("apps", settings)).toBe("warn");
    expect(await resolver("missing", settings)).toBe("enforce");
    expect(await resolver("slow", { ...settings, defaultMode: "audit" })).toBe("audit");
    directory.close();
  });

  it("is not used when there is no cluster configuration at all", () => {
    expect(clusterConfigured({ HOME: "/nonexistent" })).toBe(false);
    expect(clusterConfigured({ HOME: "/nonexistent", KUBECONFIG: "/some/file" })).toBe(true);
  });
});
