import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { type CertificateLogger, KubeApiError } from "../../src/certificates/clients.js";
import {
  inClusterNamespace,
  ManagedCertificates,
  startManagedCertificates,
} from "../../src/certificates/managed.js";
import {
  DEFAULT_WEBHOOK_CONFIGURATIONS,
  type ManagedCertificatesOptions,
} from "../../src/certificates/options.js";
import { isIssuedBy, parseBundle, parseCertificate } from "../../src/certificates/pki.js";
import { planCertificates, SECRET_KEYS, usableMaterial } from "../../src/certificates/plan.js";
import type { TlsMaterial } from "../../src/certificates/source.js";
import { FakeSecrets, FakeWebhooks } from "../cluster/fake-kube.js";

const DAY = 86_400_000;
const NAMESPACE = "tollgate-system";
const HOSTS = ["tollgate.tollgate-system.svc", "tollgate.tollgate-system.svc.cluster.local"];
const [MUTATING, ENFORCE, REPORT, MODE_LABEL] = DEFAULT_WEBHOOK_CONFIGURATIONS as [
  (typeof DEFAULT_WEBHOOK_CONFIGURATIONS)[number],
  (typeof DEFAULT_WEBHOOK_CONFIGURATIONS)[number],
  (typeof DEFAULT_WEBHOOK_CONFIGURATIONS)[number],
  (typeof DEFAULT_WEBHOOK_CONFIGURATIONS)[number],
];

class Clock {
  constructor(public time = Date.parse("2026-01-01T00:00:00Z")) {}
  now = () => new Date(this.time);
  advance(ms: number) {
    this.time += ms;
  }
}

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const logger: CertificateLogger = {
    info: (fields, message) => lines.push({ level: "info", message, fields }),
    warn: (fields, message) => lines.push({ level: "warn", message, fields }),
    error: (fields, message) => lines.push({ level: "error", message, fields }),
  };
  return { logger, lines };
}

function cluster() {
  const secrets = new FakeSecrets();
  const webhooks = new FakeWebhooks();
  webhooks.add(MUTATING, ["mutate.tollgate.dev"]);
  webhooks.add(ENFORCE, ["enforce.tollgate.dev"]);
  webhooks.add(REPORT, ["warn.tollgate.dev", "audit.tollgate.dev"]);
  webhooks.add(MODE_LABEL, ["mode-label.tollgate.dev"]);
  const clock = new Clock();
  const start = (options: Partial<ManagedCertificatesOptions> = {}) =>
    startManagedCertificates({
      namespace: NAMESPACE,
      clients: { secrets, webhooks },
      timers: false,
      now: clock.now,
      startRetryDelayMs: 1,
      ...options,
    });
  const secret = () => {
    const found = secrets.store.get(`${NAMESPACE}/tollgate-tls`);
    if (!found) throw new Error("no Secret");
    return found;
  };
  return { secrets, webhooks, clock, start, secret };
}

const base64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64");

function bundleFingerprints(pem: string | undefined): string[] {
  return parseBundle(pem).map((c) => c.fingerprint);
}

function issuerOf(data: Record<string, string>) {
  const serving = parseCertificate(data[SECRET_KEYS.cert]);
  const ca = parseCertificate(data[SECRET_KEYS.caCert]);
  if (!serving || !ca) throw new Error("unreadable Secret");
  return { serving, ca };
}

describe("self-managed certificates", () => {
  it("replicas starting together converge on one Secret", async () => {
    const { secrets, webhooks, start, secret } = cluster();
    const replicas = await Promise.all([start(), start(), start(), start(), start()]);

    // Every replica tried to create it; one create won and nobody rewrote it afterwards.
    expect(secrets.count("create")).toBe(5);
    expect(secrets.count("replace")).toBe(0);
    expect(secrets.store.size).toBe(1);
    const stored = secret();
    expect(stored.type).toBe("kubernetes.io/tls");
    expect(stored.resourceVersion).toBe("101");
    for (const replica of replicas) {
      expect(replica.current()).toEqual({
        cert: stored.data[SECRET_KEYS.cert],
        key: stored.data[SECRET_KEYS.key],
      });
      expect(replica.caBundle()).toBe(stored.data[SECRET_KEYS.bundle]);
    }
    const { serving, ca } = issuerOf(stored.data);
    expect(isIssuedBy(serving, ca)).toBe(true);
    expect(serving.x509.subjectAltName).toContain("DNS:tollgate.tollgate-system.svc");
    expect(serving.x509.subjectAltName).toContain("DNS:tollgate.tollgate-system.svc.cluster.local");
    const wanted = base64(stored.data[SECRET_KEYS.bundle] ?? "");
    for (const ref of DEFAULT_WEBHOOK_CONFIGURATIONS) {
      for (const bundle of webhooks.caBundles(ref)) expect(bundle).toBe(wanted);
    }
    for (const replica of replicas) replica.close();
  });

  it("renews the serving certificate well before expiry, from the same CA", async () => {
    const { secrets, webhooks, clock, start, secret } = cluster();
    const manager = await start();
    const first = structuredClone(secret().data);
    const changes: TlsMaterial[] = [];
    manager.onChange((material) => changes.push(material));
    const patchesAfterStart = webhooks.patches.length;

    clock.advance(200 * DAY); // 165 of 365 days left: more than a third
    await manager.reconcile();
    expect(secrets.count("replace")).toBe(0);
    expect(changes).toEqual([]);

    clock.advance(50 * DAY); // 115 days left: less than a third
    await manager.reconcile();
    expect(secrets.count("replace")).toBe(1);
    const renewed = secret().data;
    expect(renewed[SECRET_KEYS.cert]).not.toBe(first[SECRET_KEYS.cert]);
    expect(renewed[SECRET_KEYS.caCert]).toBe(first[SECRET_KEYS.caCert]);
    expect(renewed[SECRET_KEYS.caKey]).toBe(first[SECRET_KEYS.caKey]);
    expect(renewed[SECRET_KEYS.bundle]).toBe(first[SECRET_KEYS.bundle]);
    const { serving, ca } = issuerOf(renewed);
    expect(isIssuedBy(serving, ca)).toBe(true);
    expect(serving.notAfter.getTime()).toBeGreaterThan(clock.time + 364 * DAY);
    // Same CA, same bundle: the webhook configurations are left alone.
    expect(webhooks.patches.length).toBe(patchesAfterStart);
    expect(changes).toEqual([{ cert: renewed[SECRET_KEYS.cert], key: renewed[SECRET_KEYS.key] }]);
    expect(manager.current()).toEqual(changes[0]);
    manager.close();
  });

  it("lets a replica pick up another replica's renewal", async () => {
    const { clock, start } = cluster();
    const a = await start();
    const b = await start();
    const seen: TlsMaterial[] = [];
    b.onChange((material) => seen.push(material));
    clock.advance(250 * DAY);
    await a.reconcile();
    expect(a.current()).not.toEqual(b.current());
    await b.refresh();
    expect(b.current()).toEqual(a.current());
    expect(seen).toEqual([a.current()]);
    a.close();
    b.close();
  });

  it("resolves concurrent renewals through the resourceVersion: one write wins", async () => {
    const { secrets, clock, start, secret } = cluster();
    const [a, b, c] = await Promise.all([start(), start(), start()]);
    clock.advance(250 * DAY);
    await Promise.all([a?.reconcile(), b?.reconcile(), c?.reconcile()]);
    const replaced = secrets.count("replace");
    expect(replaced).toBeGreaterThanOrEqual(1);
    // Losers re-read and found the winner's certificate good: exactly one write landed.
    expect(secret().resourceVersion).toBe("102");
    const material = { cert: secret().data[SECRET_KEYS.cert], key: secret().data[SECRET_KEYS.key] };
    expect(a?.current()).toEqual(material);
    expect(b?.current()).toEqual(material);
    expect(c?.current()).toEqual(material);
  });

  it("injects the CA bundle idempotently and repairs a reset caBundle", async () => {
    const { webhooks, start } = cluster();
    const manager = await start();
    expect(webhooks.patches.map((p) => p.ref).sort()).toEqual([
      "MutatingWebhookConfiguration/tollgate",
      "ValidatingWebhookConfiguration/tollgate-enforce",
      "ValidatingWebhookConfiguration/tollgate-mode-label",
      "ValidatingWebhookConfiguration/tollgate-report",
    ]);
    // Both webhooks of tollgate-report went in one patch, each guarded by its name.
    const report = webhooks.patches.find((p) => p.ref.endsWith("tollgate-report"));
    expect(report?.operations.map((o) => `${o.op} ${o.path}`)).toEqual([
      "test /webhooks/0/name",
      "add /webhooks/0/clientConfig/caBundle",
      "test /webhooks/1/name",
      "add /webhooks/1/clientConfig/caBundle",
    ]);

    await manager.reconcile();
    await manager.refresh();
    await manager.refresh();
    expect(webhooks.patches).toHaveLength(4);

    // `kubectl apply` of a manifest carrying an empty caBundle: the next poll repairs it.
    webhooks.add(ENFORCE, ["enforce.tollgate.dev"], "");
    await manager.refresh();
    expect(webhooks.patches).toHaveLength(5);
    expect(webhooks.caBundles(ENFORCE)).toEqual([base64(manager.caBundle())]);
    manager.close();
  });

  it("patches only Tollgate's own configurations and tolerates missing ones", async () => {
    const { webhooks, start } = cluster();
    webhooks.store.delete(`${REPORT.kind}/${REPORT.name}`);
    webhooks.add({ kind: "ValidatingWebhookConfiguration", name: "someone-else" }, ["x.example"]);
    const { logger, lines } = recordingLogger();
    const manager = await start({ logger });
    expect(
      webhooks.caBundles({ kind: "ValidatingWebhookConfiguration", name: "someone-else" }),
    ).toEqual([undefined]);
    await manager.refresh();
    const missing = lines.filter((l) => l.message === "webhook configuration not found");
    expect(missing).toHaveLength(1);
    expect(missing[0]?.fields.configuration).toBe("ValidatingWebhookConfiguration/tollgate-report");
    manager.close();
  });

  it("replaces garbage Secret data, keeping the Secret's type and foreign keys", async () => {
    const { secrets, start, secret } = cluster();
    secrets.seed({
      namespace: NAMESPACE,
      name: "tollgate-tls",
      type: "kubernetes.io/tls",
      labels: {},
      annotations: {},
      data: {
        "tls.crt": "garbage",
        "tls.key": "not a key",
        "ca.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "ca-bundle.crt": "\u0000\u0001",
        note: "kept",
      },
    });
    const manager = await start();
    expect(secrets.count("create")).toBe(0);
    expect(secrets.count("replace")).toBe(1);
    const stored = secret();
    expect(stored.type).toBe("kubernetes.io/tls");
    expect(stored.data.note).toBe("kept");
    expect(usableMaterial(stored.data, HOSTS, new Date("2026-01-01T00:00:00Z"))).toBeDefined();
    expect(manager.current().cert).toBe(stored.data[SECRET_KEYS.cert]);
    manager.close();
  });

  it("re-issues a serving certificate that lacks a service name, from the same CA", async () => {
    const { start, secret } = cluster();
    const first = await start();
    const ca = secret().data[SECRET_KEYS.caCert];
    first.close();
    const second = await start({ extraHosts: ["tollgate.example.internal"] });
    expect(secret().data[SECRET_KEYS.caCert]).toBe(ca);
    expect(issuerOf(secret().data).serving.x509.subjectAltName).toContain(
      "DNS:tollgate.example.internal",
    );
    second.close();
  });

  it("repairs a deleted Secret on the next poll", async () => {
    const { secrets, start, secret } = cluster();
    const manager = await start();
    secrets.store.clear();
    await manager.refresh();
    expect(secret().data[SECRET_KEYS.cert]).toBe(manager.current().cert);
    manager.close();
  });

  it("rotates the CA near its expiry with an overlap in the bundle", async () => {
    const { webhooks, clock, start, secret } = cluster();
    const manager = await start();
    const oldCa = secret().data[SECRET_KEYS.caCert] ?? "";
    const oldFingerprint = parseCertificate(oldCa)?.fingerprint;

    // The CA lives 3650 days; rotation starts with less than 730 left.
    clock.advance(2921 * DAY);
    await manager.reconcile();
    let data = secret().data;
    const next = data[SECRET_KEYS.nextCaCert] ?? "";
    const nextFingerprint = parseCertificate(next)?.fingerprint;
    expect(nextFingerprint).toBeDefined();
    expect(data[SECRET_KEYS.caCert]).toBe(oldCa);
    expect(bundleFingerprints(data[SECRET_KEYS.bundle])).toEqual([oldFingerprint, nextFingerprint]);
    // Still signed by the old CA, but both CAs are trusted by every webhook already.
    expect(isIssuedBy(issuerOf(data).serving, issuerOf(data).ca)).toBe(true);
    expect(issuerOf(data).ca.fingerprint).toBe(oldFingerprint);
    for (const ref of DEFAULT_WEBHOOK_CONFIGURATIONS) {
      for (const bundle of webhooks.caBundles(ref)) {
        expect(bundleFingerprints(Buffer.from(bundle ?? "", "base64").toString())).toEqual([
          oldFingerprint,
          nextFingerprint,
        ]);
      }
    }

    clock.advance(2 * 3_600_000); // within the overlap: nothing moves
    await manager.reconcile();
    expect(secret().data[SECRET_KEYS.caCert]).toBe(oldCa);

    clock.advance(DAY);
    await manager.reconcile();
    data = secret().data;
    expect(parseCertificate(data[SECRET_KEYS.caCert])?.fingerprint).toBe(nextFingerprint);
    expect(data[SECRET_KEYS.nextCaCert]).toBeUndefined();
    expect(data[SECRET_KEYS.nextCaKey]).toBeUndefined();
    expect(isIssuedBy(issuerOf(data).serving, issuerOf(data).ca)).toBe(true);
    // The old CA stays trusted until it expires, for replicas that have not caught up.
    expect(bundleFingerprints(data[SECRET_KEYS.bundle])).toEqual([nextFingerprint, oldFingerprint]);

    clock.advance(730 * DAY);
    await manager.reconcile();
    expect(bundleFingerprints(secret().data[SECRET_KEYS.bundle])).toEqual([nextFingerprint]);
    manager.close();
  });

  it("keeps signing with the old CA until every configuration trusts the next one", async () => {
    const { webhooks, clock, start, secret } = cluster();
    const manager = await start();
    const oldCa = secret().data[SECRET_KEYS.caCert];
    const patch = webhooks.patch.bind(webhooks);
    // From now on the enforce configuration cannot be patched (say, RBAC was narrowed).
    webhooks.patch = async (ref, operations) => {
      if (ref.name === ENFORCE.name) throw new KubeApiError(403, "forbidden");
      return patch(ref, operations);
    };
    clock.advance(2921 * DAY);
    await manager.reconcile();
    clock.advance(3 * DAY);
    await manager.reconcile();
    expect(secret().data[SECRET_KEYS.caCert]).toBe(oldCa);
    expect(secret().data[SECRET_KEYS.nextCaCert]).toBeDefined();

    webhooks.patch = patch;
    await manager.refresh(); // injects the bundle everywhere
    await manager.reconcile(); // now promotes
    expect(secret().data[SECRET_KEYS.caCert]).not.toBe(oldCa);
    manager.close();
  });

  it("gives up at start after the configured attempts, naming the failure", async () => {
    const { secrets, start } = cluster();
    secrets.get = async () => {
      throw new KubeApiError(503, "read Secret tollgate-system/tollgate-tls: unavailable");
    };
    await expect(start({ startAttempts: 2 })).rejects.toThrow(/unavailable/);
  });

  it("polls on its own timer and stops when closed", async () => {
    const { clock, start } = cluster();
    const writer = await start();
    const follower = await start({
      timers: true,
      pollIntervalMs: 10,
      resyncIntervalMs: 3_600_000,
    });
    clock.advance(250 * DAY);
    await writer.reconcile();
    await vi.waitFor(() => expect(follower.current()).toEqual(writer.current()), {
      timeout: 20_000,
      interval: 10,
    });
    follower.close();
    writer.close();
  });

  it("reports not started before start() resolves", () => {
    const { secrets, webhooks } = cluster();
    const manager = new ManagedCertificates(
      { namespace: NAMESPACE, timers: false },
      { secrets, webhooks },
    );
    expect(() => manager.current()).toThrow(/not started/);
    expect(manager.hosts).toEqual(HOSTS);
  });
});

describe("planCertificates", () => {
  const context = (now: Date) => ({
    hosts: HOSTS,
    now,
    servingValidityDays: 365,
    renewWhenRemaining: 1 / 3,
    caRotationLeadMs: 730 * DAY,
    caOverlapMs: DAY,
    isTrusted: () => true,
  });

  it("changes nothing in data it produced itself", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const first = await planCertificates(undefined, context(now));
    expect(first.changes).toEqual(["created a CA"]);
    const again = await planCertificates(first.data, context(now));
    expect(again.changes).toEqual([]);
    expect(again.data).toEqual(first.data);
  });

  it("replaces a serving certificate signed by another CA", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const a = await planCertificates(undefined, context(now));
    const b = await planCertificates(undefined, context(now));
    const mixed = {
      ...a.data,
      "tls.crt": b.data["tls.crt"] ?? "",
      "tls.key": b.data["tls.key"] ?? "",
    };
    const fixed = await planCertificates(mixed, context(now));
    expect(fixed.changes).toEqual([
      "issued a serving certificate (serving certificate not signed by the active CA)",
    ]);
    expect(fixed.data["ca.crt"]).toBe(a.data["ca.crt"]);
  });
});

describe("inClusterNamespace", () => {
  it("prefers POD_NAMESPACE, then the service account's namespace file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-ns-"));
    const file = join(dir, "namespace");
    writeFileSync(file, "from-file\n");
    expect(inClusterNamespace({ POD_NAMESPACE: "from-env" }, file)).toBe("from-env");
    expect(inClusterNamespace({}, file)).toBe("from-file");
    expect(inClusterNamespace({}, join(dir, "missing"))).toBeUndefined();
  });
});
