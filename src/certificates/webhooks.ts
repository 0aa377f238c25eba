import {
  type CertificateLogger,
  describeError,
  type JsonPatchOperation,
  KubeApiError,
  type WebhookConfigurationClient,
  type WebhookConfigurationRef,
  type WebhookConfigurationView,
} from "./clients.js";
import { parseBundle } from "./pki.js";

const MAX_PATCH_ATTEMPTS = 5;
/** A concurrent edit: the `test` guard failed (422) or the object changed (409). */
const RETRYABLE_PATCH = new Set([409, 422]);

function fingerprintsOf(caBundle: string | undefined): Set<string> {
  if (!caBundle) return new Set();
  const pem = Buffer.from(caBundle, "base64").toString("utf8");
  return new Set(parseBundle(pem).map((c) => c.fingerprint));
}

function labelOf(ref: WebhookConfigurationRef): string {
  return `${ref.kind}/${ref.name}`;
}

/** A guarded write for each webhook whose caBundle is not `wanted` (base64). */
function bundleOperations(view: WebhookConfigurationView, wanted: string): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = [];
  view.webhooks.forEach((webhook, index) => {
    if (webhook.caBundle === wanted) return;
    // The test pins the index to the webhook read, so a concurrent edit fails the patch.
    operations.push(
      { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
      { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: wanted },
    );
  });
  return operations;
}

/**
 * Tollgate's webhook configurations as the certificate manager sees them:
 * which CAs they all trust, and the CA bundle written into each webhook.
 */
export class CaBundleInjector {
  readonly #client: WebhookConfigurationClient;
  readonly #refs: readonly WebhookConfigurationRef[];
  readonly #logger: CertificateLogger;
  /** Configurations reported missing, so each absence is logged once. */
  readonly #missingLogged = new Set<string>();

  constructor(
    client: WebhookConfigurationClient,
    refs: readonly WebhookConfigurationRef[],
    logger: CertificateLogger,
  ) {
    this.#client = client;
    this.#refs = refs;
    this.#logger = logger;
  }

  /**
   * Fingerprints of the CAs every webhook of every existing configuration
   * trusts; undefined when none of the configurations exists (nothing to
   * coordinate with). A read error trusts nothing, which only delays a CA
   * promotion.
   */
  async trustedCas(): Promise<Set<string> | undefined> {
    let trusted: Set<string> | undefined;
    for (const ref of this.#refs) {
      let view: WebhookConfigurationView | undefined;
      try {
        view = await this.#client.get(ref);
      } catch (error) {
        this.#logger.warn(
          { configuration: labelOf(ref), error: describeError(error) },
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

  /** Writes the PEM bundle into every webhook of the configurations that lacks it. */
  async inject(bundle: string): Promise<void> {
    const wanted = Buffer.from(bundle, "utf8").toString("base64");
    for (const ref of this.#refs) {
      try {
        await this.#injectOne(ref, wanted);
      } catch (error) {
        this.#logger.error(
          { configuration: labelOf(ref), error: describeError(error) },
          "cannot inject the CA bundle; the API server may reject Tollgate's certificate",
        );
      }
    }
  }

  /** Patches one configuration, reading it again when a concurrent edit wins. */
  async #injectOne(ref: WebhookConfigurationRef, wanted: string): Promise<void> {
    const label = labelOf(ref);
    for (let attempt = 1; ; attempt++) {
      const view = await this.#client.get(ref);
      if (!view) {
        this.#noteMissing(label);
        return;
      }
      this.#missingLogged.delete(label);
      const operations = bundleOperations(view, wanted);
      if (operations.length === 0) return;
      try {
        await this.#client.patch(ref, operations);
        this.#logger.info(
          { configuration: label, webhooks: operations.length / 2 },
          "injected the CA bundle",
        );
        return;
      } catch (error) {
        const status = error instanceof KubeApiError ? error.status : undefined;
        if (status !== undefined && RETRYABLE_PATCH.has(status) && attempt < MAX_PATCH_ATTEMPTS) {
          continue;
        }
        throw error;
      }
    }
  }

  #noteMissing(label: string): void {
    if (this.#missingLogged.has(label)) return;
    this.#missingLogged.add(label);
    this.#logger.warn({ configuration: label }, "webhook configuration not found");
  }
}
