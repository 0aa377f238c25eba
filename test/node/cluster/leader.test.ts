// 7. The background audit with three replicas: exactly one, the holder of the
// Lease tollgate-audit, writes PolicyReports (the API server's audit log says
// who wrote, by pod IP); deleting it hands the Lease over within the lease
// duration, and the new holder writes. Then the same with the cert-manager
// overlay (cert-manager-audit) and the real cert-manager that test/node/up.sh
// runs: its controller issues the serving Secret, its cainjector fills the
// caBundles, and a forced renewal reaches every running replica with no failed
// admission. The test overlays audit every 20 s instead of every hour.

import { X509Certificate } from "node:crypto";
import { openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admissionRound,
  busyboxDeployment,
  json,
  kubectl,
  must,
  namespace,
  newAdmissionLoad,
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

const WEBHOOK_CONFIGURATIONS = [
  ["mutatingwebhookconfiguration", "tollgate"],
  ["validatingwebhookconfiguration", "tollgate-enforce"],
  ["validatingwebhookconfiguration", "tollgate-report"],
  ["validatingwebhookconfiguration", "tollgate-mode-label"],
] as const;
const SERVICE_NAME = `tollgate.${TOLLGATE_NAMESPACE}.svc`;

interface ServingSecret {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}

/** The PEM fields of the Secret cert-manager writes for the Certificate tollgate-serving. */
function servingSecret(): {
  cert: X509Certificate;
  ca: string;
  annotations: Record<string, string>;
} {
  const secret = json<ServingSecret>([
    "-n",
    TOLLGATE_NAMESPACE,
    "get",
    "secret",
    "tollgate-serving-tls",
  ]);
  const field = (key: string) => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
  return {
    cert: new X509Certificate(field("tls.crt")),
    ca: field("ca.crt"),
    annotations: secret.metadata.annotations ?? {},
  };
}

/**
 * The certificate a replica serves, fetched from its pod IP with the name the
 * API server uses and verified against `ca` (the handshake fails otherwise).
 */
function servedFingerprint(ip: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port: 8443, servername: SERVICE_NAME, ca, timeout: 5_000 });
    socket.once("secureConnect", () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? "");
      socket.end();
    });
    socket.once("timeout", () => socket.destroy(new Error(`${ip}:8443: TLS handshake timed out`)));
    socket.once("error", reject);
  });
}

/** Fingerprints served by every running, not terminating, replica, by pod name. */
async function servedByReplicas(ca: string): Promise<Map<string, string>> {
  const served = new Map<string, string>();
  for (const pod of tollgatePods()) {
    if (pod.status.phase !== "Running" || pod.metadata.deletionTimestamp || !pod.status.podIP)
      continue;
    served.set(pod.metadata.name, await servedFingerprint(pod.status.podIP, ca));
  }
  return served;
}

interface WebhookConfiguration {
  metadata: { managedFields?: { manager?: string; operation?: string }[] };
  webhooks: { clientConfig: { caBundle?: string } }[];
}

/** The certificates of a PEM bundle, by SHA-256 fingerprint. */
function fingerprints(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).fingerprint256);
}

/**
 * Every webhook of the four configurations trusts `ca`, as written by
 * cainjector. cainjector merges: the CA of the replicas that ran with
 * --manage-certs before may stay beside it, so `ca` must be in the bundle,
 * not be all of it.
 */
function injectedByCainjector(ca: string): boolean {
  const wanted = new X509Certificate(ca).fingerprint256;
  return WEBHOOK_CONFIGURATIONS.every(([kind, name]) => {
    // kubectl leaves managedFields out of its output unless asked.
    const config = JSON.parse(
      must(["get", kind, name, "-o", "json", "--show-managed-fields"]),
    ) as WebhookConfiguration;
    const managers = (config.metadata.managedFields ?? []).map(
      (f) => `${f.manager}/${f.operation}`,
    );
    return (
      managers.includes("cert-manager-cainjector/Apply") &&
      config.webhooks.every((w) =>
        fingerprints(
          Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString("utf8"),
        ).includes(wanted),
      )
    );
  });
}

interface Certificate {
  metadata: { generation: number };
  status: { revision?: number; conditions?: { type: string; status: string }[] };
}

/** Renews now, as `cmctl renew` does: the Issuing condition on the Certificate's status. */
function forceRenewal(name: string): void {
  const certificate = json<Certificate>(["-n", TOLLGATE_NAMESPACE, "get", "certificate", name]);
  const issuing = {
    type: "Issuing",
    status: "True",
    reason: "ManuallyTriggered",
    message: "renewal forced by test/node/cluster/leader.test.ts",
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    observedGeneration: certificate.metadata.generation,
  };
  must([
    "-n",
    TOLLGATE_NAMESPACE,
    "patch",
    "certificate",
    name,
    "--subresource=status",
    "--type=json",
    "-p",
    JSON.stringify([{ op: "add", path: "/status/conditions/-", value: issuing }]),
  ]);
}

/** docs/deploy.md's first step when switching from --manage-certs to cert-manager. */
const MANAGED_CERTIFICATES_RBAC = [
  ["-n", TOLLGATE_NAMESPACE, "delete", "role,rolebinding", "tollgate-certificates"],
  ["delete", "clusterrole,clusterrolebinding", "tollgate-ca-injection"],
] as const;

const CERT_MANAGER_OBJECTS = [
  "certificate/tollgate-serving",
  "certificate/tollgate-ca",
  "issuer/tollgate-ca",
  "issuer/tollgate-selfsigned",
  "secret/tollgate-serving-tls",
  "secret/tollgate-ca",
];

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
      ...CERT_MANAGER_OBJECTS,
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

  it("the same with the cert-manager overlay: cert-manager issues, cainjector injects, a renewal reaches every replica", async () => {
    must([
      "-n",
      "cert-manager",
      "wait",
      "--for=condition=Available",
      "deployment/controller",
      "deployment/cainjector",
      "--timeout=120s",
    ]);
    // Nothing of an earlier run: what follows is cert-manager's own doing.
    for (const object of CERT_MANAGER_OBJECTS) {
      kubectl(["-n", TOLLGATE_NAMESPACE, "delete", object, "--ignore-not-found"]);
    }
    // The switch as docs/deploy.md describes it: first the RBAC of the
    // self-managed certificates, which `apply` would leave behind and with
    // which the replicas still running --manage-certs would put their own CA
    // back as the whole caBundle; then the overlay.
    for (const args of MANAGED_CERTIFICATES_RBAC) must([...args, "--ignore-not-found"]);
    must(["apply", "-k", repoPath("test/node/overlays/cert-manager-audit")]);
    for (const [kind, name] of WEBHOOK_CONFIGURATIONS) {
      expect(
        kubectl(["auth", "can-i", "patch", `${kind}/${name}`, `--as=${SA_USER}`]).stdout.trim(),
      ).toBe("no");
    }
    expect(
      kubectl([
        "-n",
        TOLLGATE_NAMESPACE,
        "auth",
        "can-i",
        "create",
        "secrets",
        `--as=${SA_USER}`,
      ]).stdout.trim(),
    ).toBe("no");
    must([
      "-n",
      TOLLGATE_NAMESPACE,
      "wait",
      "--for=condition=Ready",
      "certificate/tollgate-ca",
      "certificate/tollgate-serving",
      "--timeout=300s",
    ]);
    const issued = servingSecret();
    expect(issued.annotations["cert-manager.io/certificate-name"]).toBe("tollgate-serving");
    expect(issued.cert.checkHost(SERVICE_NAME)).toBe(SERVICE_NAME);
    expect(issued.cert.verify(new X509Certificate(issued.ca).publicKey)).toBe(true);

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
    expect(pods.spec.template.spec.automountServiceAccountToken).toBe(true);
    // cainjector adds cert-manager's CA beside the one the --manage-certs
    // replicas injected (it merges), so both generations verify mid-rollout.
    await until("cainjector's caBundle in every webhook", 300_000, () =>
      injectedByCainjector(issued.ca) ? true : undefined,
    );
    await tollgateJudges(namespace("cert-manager-enforce"));
    await leaderElectionHolds();
    // The overlay's apply put back the shipped policy set; the load below
    // applies the node's own images.
    await trustNodeImages();

    // Renewal under load: a client keeps applying while cert-manager issues a
    // new certificate (new key) into the mounted Secret and every replica
    // reloads it; no admission may fail meanwhile.
    const ns = namespace("renewal-load");
    const before = servingSecret();
    const revision =
      json<Certificate>(["-n", TOLLGATE_NAMESPACE, "get", "certificate", "tollgate-serving"]).status
        .revision ?? 0;
    const load = newAdmissionLoad();
    const started = Date.now();
    forceRenewal("tollgate-serving");
    let renewedAt = 0;
    let servedAt = 0;
    let renewed = before;
    let after = 0;
    const deadline = started + 600_000;
    for (let i = 0; i < 2_000 && after < 10 && Date.now() < deadline; i++) {
      admissionRound(load, ns, i);
      if (servedAt) {
        after++;
        continue;
      }
      if (!renewedAt) {
        renewed = servingSecret();
        if (renewed.cert.fingerprint256 !== before.cert.fingerprint256) renewedAt = Date.now();
        continue;
      }
      const served = await servedByReplicas(renewed.ca);
      if (
        served.size === 3 &&
        [...served.values()].every((f) => f === renewed.cert.fingerprint256)
      ) {
        servedAt = Date.now();
      }
    }
    const certificate = json<Certificate>([
      "-n",
      TOLLGATE_NAMESPACE,
      "get",
      "certificate",
      "tollgate-serving",
    ]);
    console.log(
      `renewal: Secret re-issued ${renewedAt - started} ms after the trigger, served by all 3 replicas ${servedAt - started} ms after it; revision ${revision} -> ${certificate.status.revision}; ${load.compliant} compliant applies, ${load.violating} violating dry runs, ${load.failures.length} failures`,
    );
    expect(renewedAt).toBeGreaterThan(0);
    expect(servedAt).toBeGreaterThan(0);
    expect(certificate.status.revision).toBe(revision + 1);
    expect(renewed.cert.serialNumber).not.toBe(before.cert.serialNumber);
    expect(renewed.cert.publicKey.equals(before.cert.publicKey)).toBe(false);
    // The CA is kept (rotationPolicy Never on tollgate-ca): the caBundle still holds.
    expect(renewed.ca).toBe(before.ca);
    expect(injectedByCainjector(renewed.ca)).toBe(true);
    expect(load.failures).toEqual([]);
  }, 1_800_000);
});
