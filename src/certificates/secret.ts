import { KubeApiError, type SecretClient, type StoredSecret } from "./clients.js";
import type { ResolvedCertificateOptions } from "./options.js";
import { type CertificatePlan, DAY_MS, planCertificates } from "./plan.js";

/** Attempts at a write that another replica, or a deletion, got in ahead of. */
const MAX_WRITE_ATTEMPTS = 5;

const SECRET_LABELS = {
  "app.kubernetes.io/name": "tollgate",
  "app.kubernetes.io/component": "webhook-certificates",
  "app.kubernetes.io/managed-by": "tollgate",
};

/** Secret data to serve from, and the resourceVersion it was read or written at. */
export interface SecretState {
  data: Readonly<Record<string, string>>;
  resourceVersion: string | undefined;
}

/**
 * The Secret every replica shares: read, planned and written guarded by the
 * resourceVersion read, so racing replicas converge on one winner's data.
 */
export class CertificateSecret {
  readonly #secrets: SecretClient;
  readonly #options: ResolvedCertificateOptions;
  readonly #trustedCas: () => Promise<Set<string> | undefined>;

  /** `trustedCas` says which CAs every webhook configuration trusts (undefined: no configuration). */
  constructor(
    secrets: SecretClient,
    options: ResolvedCertificateOptions,
    trustedCas: () => Promise<Set<string> | undefined>,
  ) {
    this.#secrets = secrets;
    this.#options = options;
    this.#trustedCas = trustedCas;
  }

  /** `namespace/name`, for log fields. */
  get label(): string {
    return `${this.#options.namespace}/${this.#options.secretName}`;
  }

  read(): Promise<StoredSecret | undefined> {
    return this.#secrets.get(this.#options.namespace, this.#options.secretName);
  }

  /**
   * Creates, repairs or renews the Secret as needed and returns what it now
   * holds. A write that loses a race is planned again from a fresh read.
   */
  async reconcile(): Promise<SecretState> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.read();
      const plan = await this.#plan(stored);
      if (plan.changes.length === 0) {
        return { data: plan.data, resourceVersion: stored?.resourceVersion };
      }
      try {
        return { data: plan.data, resourceVersion: await this.#write(stored, plan) };
      } catch (error) {
        if (this.#lostRace(error, attempt)) continue;
        throw error;
      }
    }
  }

  /** What the Secret should hold, promoting a next CA only once every webhook trusts it. */
  async #plan(stored: StoredSecret | undefined): Promise<CertificatePlan> {
    const o = this.#options;
    const trusted = await this.#trustedCas();
    return planCertificates(stored?.data, {
      hosts: o.hosts,
      now: o.now(),
      servingValidityDays: o.servingValidityDays,
      renewWhenRemaining: o.renewWhenRemaining,
      caRotationLeadMs: o.caRotationLeadDays * DAY_MS,
      caOverlapMs: o.caOverlapMs,
      isTrusted: (fingerprint) => trusted === undefined || trusted.has(fingerprint),
    });
  }

  /** Stores the plan; returns the new resourceVersion. */
  async #write(stored: StoredSecret | undefined, plan: CertificatePlan): Promise<string> {
    const o = this.#options;
    const written = stored
      ? await this.#secrets.replace({ ...stored, data: plan.data })
      : await this.#secrets.create({
          namespace: o.namespace,
          name: o.secretName,
          type: "kubernetes.io/tls",
          labels: { ...SECRET_LABELS },
          annotations: {},
          data: plan.data,
        });
    o.logger.info(
      { secret: this.label, changes: plan.changes },
      stored ? "updated the certificate Secret" : "created the certificate Secret",
    );
    return written.resourceVersion;
  }

  /** Whether a failed write lost to another writer and is worth planning again. */
  #lostRace(error: unknown, attempt: number): boolean {
    const status = error instanceof KubeApiError ? error.status : undefined;
    // 409: another replica created or changed it first; 404: deleted meanwhile.
    if ((status !== 409 && status !== 404) || attempt >= MAX_WRITE_ATTEMPTS) return false;
    this.#options.logger.info(
      { secret: this.label, status, attempt },
      "certificate Secret changed under us; reading it again",
    );
    return true;
  }
}
