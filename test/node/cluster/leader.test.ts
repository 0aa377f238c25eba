// 7. The background audit with three replicas: exactly one, the holder of the
// Lease tollgate-audit, writes PolicyReports (the API server's audit log says
// who wrote, by pod IP); deleting it hands the Lease over within the lease
// duration, and the new holder writes. Then the same with the cert-manager
// overlay (cert-manager-audit), with the test doing cert-manager's job. The
// test overlays audit every 20 s instead of every hour.
import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busyboxDeployment,
  json,
  kubectl,
  must,
  namespace,
  repoPath,
  restoreNodeOverlay,
  rolledOut,
  TOLLGATE_NAMESPACE,
  tollgateJudges,
  tollgatePods,
  trustNodeImages,
  until,
} from "./kube.js";

const SA_USER = "system:serviceaccount:tollgate-system:tollgate";
const AUDIT_LOG = join(process.env.TOLLGATE_NODE_RUN_DIR ?? "", "cp", "audit.log");

interface Lease {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

function lease(): Lease | undefined {
  const r = kubectl(["-n", TOLLGATE_NAMESPACE, "get", "lease", "tollgate-audit", "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Lease) : undefined;
}

/** The API server's audit log from a byte offset on: who wrote PolicyReports, by source IP. */
class ReportWrites {
  private offset = statSync(AUDIT_LOG).size;

  /** Source IPs of every PolicyReport write by Tollgate's service account since the last call. */
  next(): string[] {
    const size = statSync(AUDIT_LOG).size;
    if (size <= this.offset) return [];
    const fd = openSync(AUDIT_LOG, "r");
    const buffer = Buffer.alloc(size - this.offset);
    readSync(fd, buffer, 0, buffer.length, this.offset);
    const text = buffer.toString("utf8");
    // Only whole lines; a partial last line is read next time.
    const end = text.lastIndexOf("\n") + 1;
    this.offset += Buffer.byteLength(text.slice(0, end));
    const ips: string[] = [];
    for (const line of text.slice(0, end).split("\n")) {
      if (!line.includes("policyreports") || !line.includes(SA_USER)) continue;
      const event = JSON.parse(line) as {
        verb: string;
        user: { username: string };
        sourceIPs?: string[];
        objectRef?: { resource?: string };
      };
      const resource = event.objectRef?.resource ?? "";
      if (!["policyreports", "clusterpolicyreports"].includes(resource)) continue;
      if (!["create", "update", "patch", "delete"].includes(event.verb)) continue;
      if (event.user.username !== SA_USER) continue;
      ips.push(event.sourceIPs?.[0] ?? "?");
    }
    return ips;
  }
}

function podIp(name: string): string {
  const pod = tollgatePods().find((p) => p.metadata.name === name);
  if (!pod?.status.podIP) throw new Error(`no IP for pod ${name}`);
  return pod.status.podIP;
}

/** Waits for the rollout, then for the Lease to name one of the running replicas. */
async function electedLeader(exclude?: string): Promise<string> {
  await until("tollgate rolled out", 400_000, () => (rolledOut() ? true : undefined));
  return until("a running replica holds the Lease", 180_000, () => {
    const holder = lease()?.spec.holderIdentity;
    const running = tollgatePods().filter(
      (p) => p.status.phase === "Running" && !p.metadata.deletionTimestamp,
    );
    return holder && holder !== exclude && running.some((p) => p.metadata.name === holder)
      ? holder
      : undefined;
  });
}

/** Collects report writes until `enough` came from the leader, then checks no one else wrote. */
async function onlyLeaderWrites(writes: ReportWrites, leaderIp: string): Promise<string[]> {
  const seen: string[] = [];
  await until(`PolicyReports written by the leader (${leaderIp})`, 240_000, () => {
    seen.push(...writes.next());
    return seen.includes(leaderIp) ? true : undefined;
  });
  // More than one audit interval (20 s) of log, so a follower's write would show up too.
  await new Promise((r) => setTimeout(r, 30_000));
  seen.push(...writes.next());
  return [...new Set(seen)];
}

/**
 * Deletes every PolicyReport: the audit rewrites only reports that changed, so
 * this is what makes the next run (every 20 s in the test overlays) write.
 */
function deleteReports(): void {
  must(["delete", "policyreports", "--all", "-A"]);
  must(["delete", "clusterpolicyreports", "--all"]);
}

async function leaderElectionHolds(): Promise<void> {
  const first = await electedLeader();
  const firstIp = podIp(first);
  const writes = new ReportWrites();
  deleteReports();
  expect(await onlyLeaderWrites(writes, firstIp)).toEqual([firstIp]);

  // Delete the leader; follow the Lease until another replica holds it.
  let lastRenew = Date.parse(lease()?.spec.renewTime ?? "");
  must(["-n", TOLLGATE_NAMESPACE, "delete", "pod", first, "--wait=false"]);
  const next = await until("another replica holds the Lease", 240_000, () => {
    const spec = lease()?.spec;
    if (spec?.holderIdentity === first && spec.renewTime) lastRenew = Date.parse(spec.renewTime);
    return spec?.holderIdentity && spec.holderIdentity !== first ? spec : undefined;
  });
  const duration = (next.leaseDurationSeconds ?? 0) * 1000;
  // Times written by the replicas themselves: the new holder took the Lease
  // less than one lease duration after the old one last renewed it.
  const gap = Date.parse(next.acquireTime ?? "") - lastRenew;
  console.log(
    `leader ${first} deleted: ${next.holderIdentity} acquired the Lease ${gap} ms after the last renewal (lease duration ${duration} ms, transitions ${next.leaseTransitions})`,
  );
  expect(duration).toBe(15_000);
  expect(gap).toBeLessThanOrEqual(duration);
  const nextIp = podIp(next.holderIdentity as string);
  const afterHandover = new ReportWrites();
  deleteReports();
  // The new leader audits at once; nobody else writes meanwhile.
  expect(await onlyLeaderWrites(afterHandover, nextIp)).toEqual([nextIp]);
}

describe("7. background audit with leader election", () => {
  beforeAll(async () => {
    await trustNodeImages();
    // Something to report on.
    const ns = namespace("audited");
    const d = busyboxDeployment("subject", ns, "tollgate.local/busybox:root", { runAsUser: 10001 });
    (d.spec as { replicas: number }).replicas = 0;
    must(["apply", "-f", "-"], d);
  });

  afterAll(async () => {
    await restoreNodeOverlay();
    for (const object of [
      "role/tollgate-audit-lease",
      "rolebinding/tollgate-audit-lease",
      "secret/tollgate-serving-tls",
    ]) {
      kubectl(["-n", TOLLGATE_NAMESPACE, "delete", object, "--ignore-not-found"]);
    }
    kubectl(["delete", "clusterrole/tollgate-audit", "clusterrolebinding/tollgate-audit"]);
    await tollgateJudges(namespace("leader-restored"));
  }, 800_000);

  it("three replicas, one writer; deleting it hands over within the lease duration", async () => {
    must(["apply", "-k", repoPath("test/node/overlays/audit")]);
    await leaderElectionHolds();
    const reports = json<{ items: unknown[] }>(["get", "policyreports", "-A"]).items;
    expect(reports.length).toBeGreaterThan(0);
  }, 900_000);

  it("the same with the cert-manager overlay, the test doing cert-manager's part", async () => {
    // What cert-manager would issue: a CA and a serving certificate for the Service.
    const dir = mkdtempSync(join(tmpdir(), "tollgate-cm-"));
    const issued = spawnSync(
      process.execPath,
      [
        repoPath("dist/src/cli/main.js"),
        "certs",
        "--service",
        "tollgate",
        "--namespace",
        TOLLGATE_NAMESPACE,
        "--out",
        dir,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(issued.status, issued.stderr).toBe(0);
    kubectl([
      "-n",
      TOLLGATE_NAMESPACE,
      "delete",
      "secret",
      "tollgate-serving-tls",
      "--ignore-not-found",
    ]);
    must([
      "-n",
      TOLLGATE_NAMESPACE,
      "create",
      "secret",
      "generic",
      "tollgate-serving-tls",
      "--type=kubernetes.io/tls",
      `--from-file=tls.crt=${join(dir, "tls.crt")}`,
      `--from-file=tls.key=${join(dir, "tls.key")}`,
      `--from-file=ca.crt=${join(dir, "ca.crt")}`,
    ]);
    must(["apply", "-k", repoPath("test/node/overlays/cert-manager-audit")]);
    const pods = await until("replicas serving cert-manager's certificate", 400_000, () => {
      if (!rolledOut() || tollgatePods().length !== 3) return undefined;
      const deployment = json<{
        spec: {
          template: {
            spec: { automountServiceAccountToken: boolean; containers: { args: string[] }[] };
          };
        };
      }>(["-n", TOLLGATE_NAMESPACE, "get", "deployment", "tollgate"]);
      return deployment.spec.template.spec.containers[0]?.args.includes("--cert=/certs/tls.crt")
        ? deployment
        : undefined;
    });
    // What cainjector would do, once the old replicas (which keep their own CA
    // in the caBundles with --manage-certs) are gone.
    const caBundle = readFileSync(join(dir, "ca.crt")).toString("base64");
    for (const [kind, name] of [
      ["mutatingwebhookconfiguration", "tollgate"],
      ["validatingwebhookconfiguration", "tollgate-enforce"],
      ["validatingwebhookconfiguration", "tollgate-report"],
      ["validatingwebhookconfiguration", "tollgate-mode-label"],
    ] as const) {
      const config = json<{ webhooks: unknown[] }>(["get", kind, name]);
      const patch = config.webhooks.map((_, i) => ({
        op: "replace",
        path: `/webhooks/${i}/clientConfig/caBundle`,
        value: caBundle,
      }));
      must(["patch", kind, name, "--type=json", "-p", JSON.stringify(patch)]);
    }
    expect(pods.spec.template.spec.automountServiceAccountToken).toBe(true);
    await tollgateJudges(namespace("cert-manager-enforce"));
    await leaderElectionHolds();
  }, 1_200_000);
});
