// 4. A Deployment admitted before enforcement (its namespace was in audit
// mode) keeps a violation. Once enforced, it can still roll out and be
// drained: the ReplicaSets and Pods the real controllers write from its
// template are judged on the Deployment (docs/server.md), while a new
// violation on the Deployment is still denied.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busyboxDeployment,
  json,
  kubectl,
  must,
  namespace,
  trustNodeImages,
  until,
} from "./kube.js";

const NAME = "legacy";
const SELECTOR = `app.kubernetes.io/name=${NAME}`;

interface Meta {
  name: string;
  uid: string;
  ownerReferences?: { kind: string; name: string }[];
  annotations?: Record<string, string>;
}
interface Pod {
  metadata: Meta;
  status: { phase?: string; containerStatuses?: { ready: boolean }[] };
}
interface ReplicaSet {
  metadata: Meta;
  spec: { replicas: number };
  status: { readyReplicas?: number };
}

/** The legacy workload: compliant except that its container has no memory limit. */
function legacy(ns: string): Record<string, unknown> {
  const d = busyboxDeployment(NAME, ns, "tollgate.local/busybox:root", { runAsUser: 10001 });
  const spec = d.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
  const [container] = spec.template.spec.containers;
  if (container) container.resources = { requests: { cpu: "10m", memory: "16Mi" } };
  return d;
}

function pods(ns: string): Pod[] {
  return json<{ items: Pod[] }>(["-n", ns, "get", "pods", "-l", SELECTOR]).items;
}

function running(list: Pod[]): boolean {
  return list.every((p) => p.status.phase === "Running" && p.status.containerStatuses?.[0]?.ready);
}

/** API-server audit events (JSON lines) for creates of `resource` in `ns`. */
function auditedCreates(ns: string, resource: string): Record<string, unknown>[] {
  const file = join(process.env.TOLLGATE_NODE_RUN_DIR ?? "", "cp", "audit.log");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.includes(`"namespace":"${ns}"`) && line.includes(`"${resource}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(
      (e) =>
        e.verb === "create" &&
        e.stage === "ResponseComplete" &&
        (e.objectRef as { resource?: string }).resource === resource,
    );
}

describe("4. a grandfathered Deployment under enforcement, with the real controllers", () => {
  let ns = "";
  beforeAll(async () => {
    await trustNodeImages();
    ns = namespace("grandfathered", "audit");
    // Admitted while the namespace was only audited: the violation is stored.
    must(["apply", "-f", "-"], legacy(ns));
    await until("the legacy pods run", 180_000, () => {
      const list = pods(ns);
      return list.length === 2 && running(list) ? true : undefined;
    });
    // Enforcement starts: without the label the namespace gets the default mode.
    must(["label", "namespace", ns, "tollgate.dev/mode-"]);
    await until("the namespace is enforced", 60_000, () => {
      const fresh = legacy(ns);
      (fresh.metadata as { name: string }).name = "fresh";
      const r = kubectl(["create", "--dry-run=server", "-f", "-"], fresh);
      return r.code !== 0 && r.stderr.includes("resources") ? true : undefined;
    });
  });

  afterAll(() => {
    kubectl(["uncordon", "tollgate-node"]);
  });

  it("a fresh Deployment with the same violation is denied: enforcement is on", () => {
    const fresh = legacy(ns);
    (fresh.metadata as { name: string }).name = "fresh";
    const r = kubectl(["apply", "-f", "-"], fresh);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "enforce.tollgate.dev" denied the request');
    expect(r.stderr).toContain("resources");
  });

  it("rolls out: the edit warns, the new ReplicaSet and its Pods are admitted and run", async () => {
    const before = json<{ items: ReplicaSet[] }>(["-n", ns, "get", "rs", "-l", SELECTOR]).items;
    expect(before).toHaveLength(1);
    const restart = kubectl(["-n", ns, "rollout", "restart", `deployment/${NAME}`]);
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stderr).toContain("already present before this update");
    const done = kubectl(["-n", ns, "rollout", "status", `deployment/${NAME}`, "--timeout=300s"]);
    expect(done.code, done.stderr).toBe(0);

    const after = json<{ items: ReplicaSet[] }>(["-n", ns, "get", "rs", "-l", SELECTOR]).items;
    const added = after.filter((rs) => !before.some((b) => b.metadata.uid === rs.metadata.uid));
    expect(added).toHaveLength(1);
    expect(added[0]?.status.readyReplicas).toBe(2);
    const old = after.find((rs) => rs.metadata.uid === before[0]?.metadata.uid);
    expect(old?.spec.replicas).toBe(0);
    // The old pods go once they have stopped; then only the new ReplicaSet's are left.
    const list = await until("only the new ReplicaSet's pods", 180_000, () => {
      const current = pods(ns);
      return current.length === 2 && running(current) ? current : undefined;
    });
    expect(list.map((p) => p.metadata.ownerReferences?.[0]?.name)).toEqual(
      list.map(() => added[0]?.metadata.name),
    );

    // The API server's audit log: the deployment controller's own identity
    // wrote the ReplicaSet, and Tollgate judged it and let it through, saying why.
    const created = auditedCreates(ns, "replicasets").filter(
      (e) => (e.objectRef as { name?: string }).name === added[0]?.metadata.name,
    );
    expect(created).toHaveLength(1);
    const event = created[0] as {
      user: { username: string };
      responseStatus: { code: number };
      annotations?: Record<string, string>;
    };
    expect(event.user.username).toBe("system:serviceaccount:kube-system:deployment-controller");
    expect(event.responseStatus.code).toBe(201);
    expect(event.annotations?.["enforce.tollgate.dev/resources"]).toContain(
      `written by the Deployment controller from Deployment "${NAME}"`,
    );
  });

  it("drains: evicted pods are replaced by the ReplicaSet controller, not denied", async () => {
    const before = pods(ns).map((p) => p.metadata.uid);
    expect(before).toHaveLength(2);
    const drain = kubectl([
      "drain",
      "tollgate-node",
      `--pod-selector=${SELECTOR}`,
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--timeout=180s",
    ]);
    expect(drain.code, drain.stderr).toBe(0);
    // The replacements are admitted at once (they wait for a node: this one is cordoned).
    const replaced = await until("two replacement pods", 120_000, () => {
      const list = pods(ns).filter((p) => !before.includes(p.metadata.uid));
      return list.length === 2 ? list : undefined;
    });
    expect(replaced.map((p) => p.metadata.ownerReferences?.[0]?.kind)).toEqual([
      "ReplicaSet",
      "ReplicaSet",
    ]);
    must(["uncordon", "tollgate-node"]);
    await until("the replacements run", 180_000, () => {
      const list = pods(ns);
      return list.length === 2 && running(list) ? true : undefined;
    });
    const denied = json<{ items: { reason: string; message: string }[] }>([
      "-n",
      ns,
      "get",
      "events",
      "--field-selector",
      "reason=FailedCreate",
    ]).items;
    expect(denied.map((e) => e.message)).toEqual([]);
  });

  it("a new violation on the Deployment is still denied, and so is a ReplicaSet a user writes", () => {
    const worse = kubectl([
      "-n",
      ns,
      "set",
      "image",
      `deployment/${NAME}`,
      "app=docker.io/library/busybox:1.36",
    ]);
    expect(worse.code).not.toBe(0);
    expect(worse.stderr).toContain('admission webhook "enforce.tollgate.dev" denied the request');
    expect(worse.stderr).toContain("trusted-registry");

    // The same template, owned by the Deployment, but written by a user: judged in full.
    const deployment = json<{ metadata: Meta; spec: { template: unknown } }>([
      "-n",
      ns,
      "get",
      "deployment",
      NAME,
    ]);
    const forged = kubectl(["create", "--dry-run=server", "-f", "-"], {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "forged",
        namespace: ns,
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: NAME,
            uid: deployment.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": NAME, forged: "true-copy" } },
        template: {
          ...(deployment.spec.template as Record<string, unknown>),
          metadata: { labels: { "app.kubernetes.io/name": NAME, forged: "true-copy" } },
        },
      },
    });
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toContain("resources");
  });
});
