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
import { generateCertificates } from "../tls/generate.js";
import type { TlsMaterial, TlsSource } from "../tls/source.js";
import {
  type Certificate,
  coversHosts,
  isIssuedBy,
  issueServingCertificate,
  isValidAt,
  type KeyPair,
  parseBundle,
  parseKeyPair,
  remainingFraction,
} from "./certificates-pki.js";

export const SECRET_KEYS = {
  caCert: "ca.crt",
  caKey: "ca.key",
  cert: "tls.crt",
  key: "tls.key",
  bundle: "ca-bundle.crt",
  nextCaCert: "next-ca.crt",
  nextCaKey: "next-ca.key",
} as const;

const OWN_KEYS = new Set<string>(Object.values(SECRET_KEYS));
const DAY_MS = 86_400_000;

// --- What the logic needs from Kubernetes -----------------------------------

/** An error answer of the API server; `status` is its HTTP status code. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof KubeApiError ? error.status : undefined;
}

/** A Secret as stored, with its data decoded to text. */
export interface StoredSecret {
  namespace: string;
  name: string;
  resourceVersion: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Record<string, string>;
}

export type NewSecret = Omit<StoredSecret, "resourceVersion">;

export interface SecretClient {
  /** Undefined when the Secret does not exist. */
  get(namespace: string, name: string): Promise<StoredSecret | undefined>;
  /** Throws KubeApiError 409 (AlreadyExists) when the name is taken. */
  create(secret: NewSecret): Promise<StoredSecret>;
  /** Replaces the Secret guarded by its resourceVersion: KubeApiError 409 when stale. */
  replace(secret: StoredSecret): Promise<StoredSecret>;
}

export type WebhookConfigurationKind =
  | "ValidatingWebhookConfiguration"
  | "MutatingWebhookConfiguration";

export interface WebhookConfigurationRef {
  kind: WebhookConfigurationKind;
  name: string;
}

/** The part of a webhook configuration the injector reads. */
export interface WebhookConfigurationView {
  /** In order; caBundle is base64 as the API returns it, undefined when unset. */
  webhooks: { name: string; caBundle: string | undefined }[];
}

/** RFC 6902 operations the injector sends: a guard and a write per webhook. */
export type JsonPatchOperation =
  | { op: "test"; path: string; value: unknown }
  | { op: "add"; path: string; value: unknown };

export interface WebhookConfigurationClient {
  /** Undefined when the configuration does not exist. */
  get(ref: WebhookConfigurationRef): Promise<WebhookConfigurationView | undefined>;
  /** A JSON patch; a failed `test` makes the API server answer 422 (or 409). */
  patch(ref: WebhookConfigurationRef, operations: JsonPatchOperation[]): Promise<void>;
}

export interface CertificateClients {
  secrets: SecretClient;
  webhooks: WebhookConfigurationClient;
}

/** Structurally compatible with pino: `logger.info({ ... }, "message")`. */
export interface CertificateLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const silent: CertificateLogger = { info() {}, warn() {}, error() {} };

/** The Secret deploy/base grants access to (rbac.yaml). */
export const DEFAULT_SECRET_NAME = "tollgate-tls";
/** The Service the API server calls (deploy/base/service.yaml). */
export const DEFAULT_SERVICE = "tollgate";

/** The configurations deploy/base installs; only these are ever patched. */
export const DEFAULT_WEBHOOK_CONFIGURATIONS: readonly WebhookConfigurationRef[] = [
  { kind: "MutatingWebhookConfiguration", name: "tollgate" },
  { kind: "ValidatingWebhookConfiguration", name: "tollgate-enforce" },
  { kind: "ValidatingWebhookConfiguration", name: "tollgate-report" },
];

// --- Deciding what the Secret should hold (no I/O) ---------------------------

export interface PlanContext {
  hosts: readonly string[];
  now: Date;
  servingValidityDays: number;
  /** Renew the serving certificate once less than this fraction of its life is left. */
  renewWhenRemaining: number;
  /** Start a CA rotation once the CA has less than this left (ms). */
  caRotationLeadMs: number;
  /** How long a next CA sits in the bundle before it signs (ms). */
  caOverlapMs: number;
  /** Whether every webhook configuration already trusts this CA (by SHA-256 fingerprint). */
  isTrusted(fingerprint: string): boolean;
}

export interface CertificatePlan {
  /** The Secret data to store: the input's unknown keys kept, Tollgate's own rewritten. */
  data: Record<string, string>;
  /** Why the data changed; empty when the stored data is already right. */
  changes: string[];
}

function usableCa(
  cert: string | undefined,
  key: string | undefined,
  now: Date,
): KeyPair | undefined {
  const pair = parseKeyPair(cert, key);
  if (!pair?.certificate.x509.ca || !isValidAt(pair.certificate, now)) return undefined;
  return pair;
}

async function freshCa(ctx: PlanContext): Promise<{ ca: KeyPair; serving: KeyPair }> {
  const bundle = await generateCertificates({
    hosts: [...ctx.hosts],
    validDays: ctx.servingValidityDays,
    now: ctx.now,
  });
  const ca = parseKeyPair(bundle.caCert, bundle.caKey);
  const serving = parseKeyPair(bundle.cert, bundle.key);
  if (!ca || !serving) throw new Error("generated certificates do not match their keys");
  return { ca, serving };
}

function servingProblem(
  serving: KeyPair | undefined,
  ca: KeyPair,
  ctx: PlanContext,
): string | undefined {
  if (!serving) return "serving certificate missing or unreadable";
  const cert = serving.certificate;
  if (!isIssuedBy(cert, ca.certificate)) return "serving certificate not signed by the active CA";
  if (!coversHosts(cert, ctx.hosts)) return "serving certificate does not cover the service names";
  if (!isValidAt(cert, ctx.now)) return "serving certificate expired or not yet valid";
  if (remainingFraction(cert, ctx.now) < ctx.renewWhenRemaining) {
    return "serving certificate due for renewal";
  }
  return undefined;
}

function serialize(
  input: Readonly<Record<string, string>> | undefined,
  state: { ca: KeyPair; serving: KeyPair; next: KeyPair | undefined; bundle: Certificate[] },
): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (!OWN_KEYS.has(key)) data[key] = value;
  }
  data[SECRET_KEYS.caCert] = state.ca.certificate.pem;
  data[SECRET_KEYS.caKey] = state.ca.key;
  data[SECRET_KEYS.cert] = state.serving.certificate.pem;
  data[SECRET_KEYS.key] = state.serving.key;
  data[SECRET_KEYS.bundle] = state.bundle.map((c) => c.pem).join("");
  if (state.next) {
    data[SECRET_KEYS.nextCaCert] = state.next.certificate.pem;
    data[SECRET_KEYS.nextCaKey] = state.next.key;
  }
  return data;
}

function sameData(a: Readonly<Record<string, string>> | undefined, b: Record<string, string>) {
  const left = a ?? {};
  const keys = new Set([...Object.keys(left), ...Object.keys(b)]);
  for (const key of keys) if (left[key] !== b[key]) return false;
  return true;
}

/**
 * What the Secret should hold now, given what it holds (undefined: absent).
 * Garbage is replaced, due certificates are renewed, a CA near its expiry is
 * rotated in two steps. Pure apart from key generation.
 */
export async function planCertificates(
  stored: Readonly<Record<string, string>> | undefined,
  ctx: PlanContext,
): Promise<CertificatePlan> {
  const changes: string[] = [];
  const { now } = ctx;
  let ca = usableCa(stored?.[SECRET_KEYS.caCert], stored?.[SECRET_KEYS.caKey], now);
  let next = usableCa(stored?.[SECRET_KEYS.nextCaCert], stored?.[SECRET_KEYS.nextCaKey], now);
  if (!next && (stored?.[SECRET_KEYS.nextCaCert] || stored?.[SECRET_KEYS.nextCaKey])) {
    changes.push("dropped an unusable next CA");
  }
  let previous: KeyPair | undefined;

  if (!ca && next) {
    // The active CA is gone or expired: the next one is the best there is.
    ca = next;
    next = undefined;
    changes.push("active CA unusable; promoted the next CA early");
  }
  if (!ca) {
    const fresh = await freshCa(ctx);
    changes.push(stored ? "replaced an unusable CA and serving certificate" : "created a CA");
    const data = serialize(stored, { ...fresh, next: undefined, bundle: [fresh.ca.certificate] });
    return { data, changes };
  }

  if (
    next &&
    now.getTime() - next.certificate.notBefore.getTime() >= ctx.caOverlapMs &&
    ctx.isTrusted(next.certificate.fingerprint)
  ) {
    previous = ca;
    ca = next;
    next = undefined;
    changes.push("promoted the next CA");
  }
  if (!next && ca.certificate.notAfter.getTime() - now.getTime() < ctx.caRotationLeadMs) {
    next = (await freshCa(ctx)).ca;
    changes.push("introduced a next CA ahead of the active CA's expiry");
  }

  let serving = parseKeyPair(stored?.[SECRET_KEYS.cert], stored?.[SECRET_KEYS.key]);
  const problem = servingProblem(serving, ca, ctx);
  if (problem) {
    const wanted = now.getTime() + ctx.servingValidityDays * DAY_MS;
    const notAfter = new Date(Math.min(wanted, ca.certificate.notAfter.getTime()));
    serving = await issueServingCertificate({ ca, hosts: ctx.hosts, notAfter, now });
    changes.push(`issued a serving certificate (${problem})`);
  }
  if (!serving) throw new Error("unreachable: serving certificate missing after issuing");

  // Trust: active, next, previous, and whatever valid CA the bundle already held.
  const bundle: Certificate[] = [];
  const seen = new Set<string>();
  const candidates = [
    ca.certificate,
    next?.certificate,
    previous?.certificate,
    ...parseBundle(stored?.[SECRET_KEYS.bundle]),
  ];
  for (const cert of candidates) {
    if (!cert || seen.has(cert.fingerprint) || !cert.x509.ca || !isValidAt(cert, now)) continue;
    seen.add(cert.fingerprint);
    bundle.push(cert);
  }

  const data = serialize(stored, { ca, serving, next, bundle });
  if (changes.length === 0 && !sameData(stored, data)) changes.push("normalized the Secret data");
  if (changes.length === 0) return { data: { ...(stored ?? {}) }, changes };
  return { data, changes };
}

/**
 * The serving material and bundle a Secret holds, when it can be served as is
 * (it may still be due for renewal); undefined when it needs repair.
 */
export function usableMaterial(
  data: Readonly<Record<string, string>>,
  hosts: readonly string[],
  now: Date,
): { material: TlsMaterial; bundle: string } | undefined {
  const ca = usableCa(data[SECRET_KEYS.caCert], data[SECRET_KEYS.caKey], now);
  const serving = parseKeyPair(data[SECRET_KEYS.cert], data[SECRET_KEYS.key]);
  if (!ca || !serving) return undefined;
  if (!isIssuedBy(serving.certificate, ca.certificate) || !isValidAt(serving.certificate, now)) {
    return undefined;
  }
  if (!coversHosts(serving.certificate, hosts)) return undefined;
  const bundle = parseBundle(data[SECRET_KEYS.bundle]);
  if (!bundle.some((c) => c.fingerprint === ca.certificate.fingerprint)) return undefined;
  return {
    material: { cert: serving.certificate.pem, key: serving.key },
    bundle: bundle.map((c) => c.pem).join(""),
  };
}

// --- The loop ----------------------------------------------------------------

export interface ManagedCertificatesOptions {
  /** Where Tollgate runs; the Secret and the Service live there. */
  namespace: string;
  /** Defaults to the in-cluster client (service account token), loaded lazily. */
  clients?: CertificateClients;
  /** The Service the API server calls; default `tollgate`. */
  service?: string;
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** More DNS names or IPs for the serving certificate. */
  extraHosts?: readonly string[];
  /** Default `tollgate-tls`. */
  secretName?: string;
  /** Default: tollgate, tollgate-enforce and tollgate-report. */
  webhookConfigurations?: readonly WebhookConfigurationRef[];
  /** Serving certificate lifetime; the CA lives ten times as long. Default 365. */
  servingValidityDays?: number;
  /** Default 1/3: a one-year certificate is renewed about four months before it expires. */
  renewWhenRemaining?: number;
  /** Default two serving lifetimes. */
  caRotationLeadDays?: number;
  /** Default 24 hours. */
  caOverlapMs?: number;
  /** Secret and caBundle check; default 60 s, ±10 % jitter. */
  pollIntervalMs?: number;
  /** Renewal check; default one hour, ±25 % jitter. */
  resyncIntervalMs?: number;
  /** Attempts at start before giving up (API server unreachable, RBAC missing); default 5. */
  startAttempts?: number;
  /** First retry delay at start, doubled each time; default 1000 ms. */
  startRetryDelayMs?: number;
  /** Set false to drive `refresh()` and `reconcile()` by hand (tests). */
  timers?: boolean;
  logger?: CertificateLogger;
  now?: () => Date;
  random?: () => number;
}

type Resolved = Required<Omit<ManagedCertificatesOptions, "clients" | "extraHosts">> & {
  hosts: string[];
};

function resolve(options: ManagedCertificatesOptions): Resolved {
  const service = options.service ?? DEFAULT_SERVICE;
  const clusterDomain = options.clusterDomain ?? "cluster.local";
  const servingValidityDays = options.servingValidityDays ?? 365;
  return {
    namespace: options.namespace,
    service,
    clusterDomain,
    hosts: [
      `${service}.${options.namespace}.svc`,
      `${service}.${options.namespace}.svc.${clusterDomain}`,
      ...(options.extraHosts ?? []),
    ],
    secretName: options.secretName ?? DEFAULT_SECRET_NAME,
    webhookConfigurations: options.webhookConfigurations ?? DEFAULT_WEBHOOK_CONFIGURATIONS,
    servingValidityDays,
    renewWhenRemaining: options.renewWhenRemaining ?? 1 / 3,
    caRotationLeadDays: options.caRotationLeadDays ?? 2 * servingValidityDays,
    caOverlapMs: options.caOverlapMs ?? DAY_MS,
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
    resyncIntervalMs: options.resyncIntervalMs ?? 3_600_000,
    startAttempts: options.startAttempts ?? 5,
    startRetryDelayMs: options.startRetryDelayMs ?? 1000,
    timers: options.timers ?? true,
    logger: options.logger ?? silent,
    now: options.now ?? (() => new Date()),
    random: options.random ?? Math.random,
  };
}

const MAX_ATTEMPTS = 5;
const RETRYABLE_PATCH = new Set([409, 422]);

function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] || error.name : String(error);
}

function fingerprintsOf(caBundle: string | undefined): Set<string> {
  if (!caBundle) return new Set();
  const pem = Buffer.from(caBundle, "base64").toString("utf8");
  return new Set(parseBundle(pem).map((c) => c.fingerprint));
}

/** A TlsSource backed by the Secret, which it creates, renews and shares with other replicas. */
export class ManagedCertificates implements TlsSource {
  readonly #options: Resolved;
  readonly #clients: CertificateClients;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #material: TlsMaterial | undefined;
  #bundle = "";
  #resourceVersion: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #missingLogged = new Set<string>();

  constructor(options: ManagedCertificatesOptions, clients: CertificateClients) {
    this.#options = resolve(options);
    this.#clients = clients;
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
    const { startAttempts, startRetryDelayMs, logger } = this.#options;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.reconcile();
        break;
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
    const o = this.#options;
    const { secrets } = this.#clients;
    for (let attempt = 1; ; attempt++) {
      const stored = await secrets.get(o.namespace, o.secretName);
      const trusted = await this.#trustedCas();
      const plan = await planCertificates(stored?.data, {
        hosts: o.hosts,
        now: o.now(),
        servingValidityDays: o.servingValidityDays,
        renewWhenRemaining: o.renewWhenRemaining,
        caRotationLeadMs: o.caRotationLeadDays * DAY_MS,
        caOverlapMs: o.caOverlapMs,
        isTrusted: (fingerprint) => trusted === undefined || trusted.has(fingerprint),
      });
      let resourceVersion = stored?.resourceVersion;
      if (plan.changes.length > 0) {
        try {
          const written = stored
            ? await secrets.replace({ ...stored, data: plan.data })
            : await secrets.create({
                namespace: o.namespace,
                name: o.secretName,
                type: "kubernetes.io/tls",
                labels: {
                  "app.kubernetes.io/name": "tollgate",
                  "app.kubernetes.io/component": "webhook-certificates",
                  "app.kubernetes.io/managed-by": "tollgate",
                },
                annotations: {},
                data: plan.data,
              });
          resourceVersion = written.resourceVersion;
          o.logger.info(
            { secret: `${o.namespace}/${o.secretName}`, changes: plan.changes },
            stored ? "updated the certificate Secret" : "created the certificate Secret",
          );
        } catch (error) {
          const status = statusOf(error);
          // 409: another replica created or changed it first; 404: deleted meanwhile.
          if ((status === 409 || status === 404) && attempt < MAX_ATTEMPTS) {
            o.logger.info(
              { secret: `${o.namespace}/${o.secretName}`, status, attempt },
              "certificate Secret changed under us; reading it again",
            );
            continue;
          }
          throw error;
        }
      }
      this.#adopt(plan.data, resourceVersion);
      await this.#inject();
      return;
    }
  }

  async #refresh(): Promise<void> {
    const o = this.#options;
    const stored = await this.#clients.secrets.get(o.namespace, o.secretName);
    if (stored && stored.resourceVersion === this.#resourceVersion) {
      await this.#inject();
      return;
    }
    if (!stored || !usableMaterial(stored.data, o.hosts, o.now())) {
      o.logger.warn(
        { secret: `${o.namespace}/${o.secretName}`, found: stored !== undefined },
        "certificate Secret missing or unusable; repairing it",
      );
      await this.#reconcile();
      return;
    }
    this.#adopt(stored.data, stored.resourceVersion);
    await this.#inject();
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
    this.#options.logger.info({}, "serving certificate changed; telling listeners");
    for (const listener of this.#listeners) {
      try {
        listener(usable.material);
      } catch (error) {
        this.#options.logger.error(
          { error: describeError(error) },
          "a certificate listener failed",
        );
      }
    }
  }

  /**
   * Fingerprints of the CAs every webhook of every existing configuration
   * trusts; undefined when none of the configurations exists (nothing to
   * coordinate with). A read error trusts nothing, which only delays a CA
   * promotion.
   */
  async #trustedCas(): Promise<Set<string> | undefined> {
    let trusted: Set<string> | undefined;
    for (const ref of this.#options.webhookConfigurations) {
      let view: WebhookConfigurationView | undefined;
      try {
        view = await this.#clients.webhooks.get(ref);
      } catch (error) {
        this.#options.logger.warn(
          { configuration: `${ref.kind}/${ref.name}`, error: describeError(error) },
          "cannot read webhook configuration",
        );
        return new Set();
      }
      if (!view) continue;
      for (const webhook of view.webhooks) {
        const own = fingerprintsOf(webhook.caBundle);
        trusted = trusted ? new Set([...trusted].filter((f) => own.has(f))) : own;
      }
    }
    return trusted;
  }

  /** Writes the bundle into every webhook of Tollgate's configurations that lacks it. */
  async #inject(): Promise<void> {
    const wanted = Buffer.from(this.#bundle, "utf8").toString("base64");
    for (const ref of this.#options.webhookConfigurations) {
      try {
        await this.#injectOne(ref, wanted);
      } catch (error) {
        this.#options.logger.error(
          { configuration: `${ref.kind}/${ref.name}`, error: describeError(error) },
          "cannot inject the CA bundle; the API server may reject Tollgate's certificate",
        );
      }
    }
  }

  async #injectOne(ref: WebhookConfigurationRef, wanted: string): Promise<void> {
    const { webhooks } = this.#clients;
    const label = `${ref.kind}/${ref.name}`;
    for (let attempt = 1; ; attempt++) {
      const view = await webhooks.get(ref);
      if (!view) {
        if (!this.#missingLogged.has(label)) {
          this.#missingLogged.add(label);
          this.#options.logger.warn({ configuration: label }, "webhook configuration not found");
        }
        return;
      }
      this.#missingLogged.delete(label);
      const operations: JsonPatchOperation[] = [];
      view.webhooks.forEach((webhook, index) => {
        if (webhook.caBundle === wanted) return;
        // The test pins the index to the webhook read, so a concurrent edit fails the patch.
        operations.push(
          { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
          { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: wanted },
        );
      });
      if (operations.length === 0) return;
      try {
        await webhooks.patch(ref, operations);
        this.#options.logger.info(
          { configuration: label, webhooks: operations.length / 2 },
          "injected the CA bundle",
        );
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined && RETRYABLE_PATCH.has(status) && attempt < MAX_ATTEMPTS) {
          continue;
        }
        throw error;
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
  const clients =
    options.clients ?? (await import("./certificates-kube.js")).inClusterCertificateClients();
  const manager = new ManagedCertificates(options, clients);
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
