// KubeAuditSource against a loopback HTTP server that answers as the API
// server does: the audit must see each object exactly as the server sent it,
// including fields client-node's generated models do not know.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditError } from "../../src/audit/errors.js";
import { runAudit } from "../../src/audit/run.js";
import type { ListPage } from "../../src/audit/types.js";
import { KubeAuditSource } from "../../src/cluster/audit-source.js";
import { specReadingSet } from "../support/policies.js";

/** A field no client-node model has: what a newer API server may send. */
const NEWER = { futureField: { mode: "strict" } };

const networkPolicy = {
  metadata: {
    name: "np",
    namespace: "shop",
    creationTimestamp: "2026-11-20T10:00:00Z",
    labels: { _from: "kept" },
  },
  spec: {
    podSelector: {},
    ingress: [{ from: [{ podSelector: { matchLabels: { a: "b" } } }] }],
    ...NEWER,
  },
};

const deployment = {
  metadata: { name: "web", namespace: "shop", uid: "u1" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "mcr.microsoft.com/web:1" }], ...NEWER },
    },
  },
};

const requests: { url: string; authorization: string | undefined }[] = [];

function list(items: unknown[], metadata: Record<string, unknown> = {}) {
  return { apiVersion: "v1", kind: "List", metadata, items };
}

/** What the fake server answers, by path and query. */
function answer(req: IncomingMessage): [number, unknown] {
  const url = new URL(req.url ?? "/", "http://x");
  const token = url.searchParams.get("continue");
  switch (url.pathname) {
    case "/api/v1/namespaces":
      return [200, list([{ metadata: { name: "shop" }, status: { phase: "Active" } }])];
    case "/apis/networking.k8s.io/v1/networkpolicies":
      // Two pages: the first says one more item follows.
      return token === "page-2"
        ? [200, list([{ ...networkPolicy, metadata: { ...networkPolicy.metadata, name: "np-2" } }])]
        : [200, list([networkPolicy], { continue: "page-2", remainingItemCount: 1 })];
    case "/apis/apps/v1/deployments":
      return [200, list([deployment])];
    case "/apis/policy/v1/poddisruptionbudgets":
      return [
        403,
        {
          kind: "Status",
          message: "poddisruptionbudgets.policy is forbidden",
          reason: "Forbidden",
        },
      ];
    default:
      return url.pathname.startsWith("/api") ? [200, list([])] : [404, { kind: "Status" }];
  }
}

let server: Server;
let kc: KubeConfig;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    const [status, body] = answer(req);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "auditor", token: "audit-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "auditor" }],
    currentContext: "fake",
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function all(source: KubeAuditSource, kind: string, pageSize: number) {
  const pages: ListPage[] = [];
  for await (const page of source.list(kind, undefined, pageSize)) pages.push(page);
  return pages;
}

describe("KubeAuditSource", () => {
  it("lists pages as the JSON the server sent, with apiVersion and kind added", async () => {
    requests.length = 0;
    const pages = await all(new KubeAuditSource(kc), "NetworkPolicy", 1);
    expect(pages.map((p) => p.remaining)).toEqual([1, undefined]);
    expect(pages[0]?.items[0]).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      ...networkPolicy,
    });
    expect(Object.getPrototypeOf(pages[0]?.items[0]?.spec)).toBe(Object.prototype);
    expect(requests.map((r) => r.url)).toEqual([
      "/apis/networking.k8s.io/v1/networkpolicies?limit=1",
      "/apis/networking.k8s.io/v1/networkpolicies?limit=1&continue=page-2",
    ]);
    expect(requests.every((r) => r.authorization === "Bearer audit-token")).toBe(true);
  });

  it("turns a refusal into the audit's one-line error", async () => {
    await expect(all(new KubeAuditSource(kc), "PodDisruptionBudget", 10)).rejects.toThrow(
      new AuditError(
        "forbidden",
        'forbidden: cannot list poddisruptionbudgets.policy; grant the auditing identity "list" on "poddisruptionbudgets.policy" (poddisruptionbudgets.policy is forbidden)',
      ),
    );
  });

  it("hands a field newer than client-node's models to the policies", async () => {
    // A policy that reads the newer field, as a policy written for a newer
    // Kubernetes would; it fails what carries it, so a finding proves it arrived.
    const policies = specReadingSet(
      (spec) =>
        Boolean(
          (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec?.futureField,
        ),
      "carries futureField",
    );
    // The server forbids PodDisruptionBudgets; leave that check out of this run.
    const source = new KubeAuditSource(kc);
    const listable = source.listableKinds().filter((k) => k !== "PodDisruptionBudget");
    source.listableKinds = () => listable;
    const result = await runAudit(source, { policies, clusterChecks: [] });
    const findings = result.tally.bucket("shop").kept;
    expect(findings.map((f) => `${f.policy}: ${f.message}`)).toEqual([
      'replicas: Deployment "web": carries futureField',
    ]);
  });
});
