// Tollgate's own certificates inside the cluster, without cert-manager.
//
// Every replica runs the same loop against one Secret (default tollgate-tls):
//   - start: read the Secret; create it when absent (racing replicas: the first
//     create wins, the others get 409 AlreadyExists, read it again and use the
//     winner's); repair or renew it when needed, always with the resourceVersion
//     read (409 Conflict: read again and start over).
//   - every poll interval: read the Secret, adopt another replica's renewal, and
//     make sure the webhook configurations trust the CA bundle (patched only when
//     different).
//   - every resync interval (hourly, jittered): renew what is due.
//
// Serving certificates are renewed from the same CA, so the caBundle the API
// server holds stays valid. The CA is replaced only near its own expiry, in two
// steps: a next CA is added to the bundle first, and only once every webhook
// configuration trusts it (and an overlap period has passed) does it start
// signing, so no replica ever serves a certificate the API server cannot verify.
//
// Secret keys: ca.crt/ca.key (the CA signing tls.crt), tls.crt/tls.key (the
// serving pair), ca-bundle.crt (every CA the API server should trust: the
// active one, the next one during a rotation, the previous one until it
// expires) and next-ca.crt/next-ca.key during a rotation.
import { readFileSync } from "node:fs";
import { type CertificateClients, describeError } from "./clients.js";
import {
  type ManagedCertificatesOptions,
  type ResolvedCertificateOptions,
  resolveCertificateOptions,
} from "./options.js";
import { usableMaterial } from "./plan.js";
import { CertificateSecret } from "./secret.js";
import type { TlsMaterial, TlsSource } from "./source.js";
import { CaBundleInjector } from "./webhooks.js";

/** A TlsSource backed by the Secret, which it creates, renews and shares with other replicas. */
export class ManagedCertificates implements TlsSource {
  readonly #options: ResolvedCertificateOptions;
  readonly #secret: CertificateSecret;
  readonly #webhooks: CaBundleInjector;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #material: TlsMaterial | undefined;
  #bundle = "";
  #resourceVersion: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: Omit<ManagedCertificatesOptions, "clients">, clients: CertificateClients) {
    this.#options = resolveCertificateOptions(options);
    this.#webhooks = new CaBundleInjector(
      clients.webhooks,
      this.#options.webhookConfigurations,
      this.#options.logger,
    );
    this.#secret = new CertificateSecret(clients.secrets, this.#options, () =>
      this.#webhooks.trustedCas(),
    );
  }

  /** The DNS names the serving certificate covers. */
  get hosts(): readonly string[] {
    return this.#options.hosts;
  }

  current(): TlsMaterial {
    if (!this.#material) throw new Error("managed certificates not started; call start() first");
    return this.#material;
  }

  /** The PEM bundle injected into the webhook configurations. */
  caBundle(): string {
    return this.#bundle;
  }

  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#listeners.clear();
  }

  /** Ensures the Secret and the caBundles, retrying transient failures; then starts the timers. */
  async start(): Promise<void> {
    await this.#reconcileWithRetries();
    if (this.#options.timers) {
      this.#schedule("poll", this.#options.pollIntervalMs, 0.1);
      this.#schedule("resync", this.#options.resyncIntervalMs, 0.25);
    }
  }

  /** Creates, repairs or renews the Secret as needed, then adopts it and injects the bundle. */
  reconcile(): Promise<void> {
    return this.#serialized(() => this.#reconcile());
  }

  /** Reads the Secret (another replica may have renewed it) and re-checks the caBundles. */
  refresh(): Promise<void> {
    return this.#serialized(() => this.#refresh());
  }

  /** Retries with doubling delays: at start the API server or RBAC may not be ready yet. */
  async #reconcileWithRetries(): Promise<void> {
    const { startAttempts, startRetryDelayMs, logger } = this.#options;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.reconcile();
        return;
      } catch (error) {
        if (attempt >= startAttempts) throw error;
        const delay = startRetryDelayMs * 2 ** (attempt - 1);
        logger.warn(
          { attempt, delayMs: delay, error: describeError(error) },
          "certificate setup failed; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #serialized(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #schedule(kind: "poll" | "resync", interval: number, jitter: number): void {
    if (this.#closed) return;
    const delay = interval * (1 - jitter + 2 * jitter * this.#options.random());
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const task = kind === "poll" ? this.refresh() : this.reconcile();
      task
        .catch((error: unknown) =>
          this.#options.logger.error(
            { task: kind, error: describeError(error) },
            "certificate check failed; will retry",
          ),
        )
        .finally(() => this.#schedule(kind, interval, jitter));
    }, delay);
    timer.unref?.();
    this.#timers.add(timer);
  }

  async #reconcile(): Promise<void> {
    const { data, resourceVersion } = await this.#secret.reconcile();
    this.#adopt(data, resourceVersion);
    await this.#webhooks.inject(this.#bundle);
  }

  async #refresh(): Promise<void> {
    const o = this.#options;
    const stored = await this.#secret.read();
    if (stored && stored.resourceVersion === this.#resourceVersion) {
      await this.#webhooks.inject(this.#bundle);
      return;
    }
    if (!stored || !usableMaterial(stored.data, o.hosts, o.now())) {
      o.logger.warn(
        { secret: this.#secret.label, found: stored !== undefined },
        "certificate Secret missing or unusable; repairing it",
      );
      await this.#reconcile();
      return;
    }
    this.#adopt(stored.data, stored.resourceVersion);
    await this.#webhooks.inject(this.#bundle);
  }

  #adopt(data: Readonly<Record<string, string>>, resourceVersion: string | undefined): void {
    const usable = usableMaterial(data, this.#options.hosts, this.#options.now());
    if (!usable) throw new Error("certificate Secret data is unusable after reconciling");
    this.#resourceVersion = resourceVersion;
    this.#bundle = usable.bundle;
    const previous = this.#material;
    this.#material = usable.material;
    if (!previous || this.#closed) return;
    if (previous.cert === usable.material.cert && previous.key === usable.material.key) return;
    this.#notify(usable.material);
  }

  /** Tells every listener of a new serving pair; one failing does not stop the others. */
  #notify(material: TlsMaterial): void {
    this.#options.logger.info({}, "serving certificate changed; telling listeners");
    for (const listener of this.#listeners) {
      try {
        listener(material);
      } catch (error) {
        this.#options.logger.error(
          { error: describeError(error) },
          "a certificate listener failed",
        );
      }
    }
  }
}

/**
 * Starts self-managed certificates for `tollgate serve --manage-certs`:
 * resolves once the Secret is in place, this replica holds a serving
 * certificate and the caBundles were injected (or injection was logged as
 * failed). Rejects when the Secret cannot be read or written after
 * `startAttempts` tries. The result is a TlsSource: give `current()` to the
 * listener and call `setSecureContext` from `onChange`.
 */
export async function startManagedCertificates(
  options: ManagedCertificatesOptions,
): Promise<ManagedCertificates> {
  const manager = new ManagedCertificates(options, options.clients);
  await manager.start();
  return manager;
}

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The pod's namespace: POD_NAMESPACE (downward API), else the service account's. */
export function inClusterNamespace(
  env: NodeJS.ProcessEnv = process.env,
  file: string = SERVICE_ACCOUNT_NAMESPACE,
): string | undefined {
  const fromEnv = env.POD_NAMESPACE?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
