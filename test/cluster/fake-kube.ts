// In-memory stand-ins for the Secret and webhook configuration calls, with the
// API server's concurrency rules: create of an existing name is 409, a replace
// with a stale resourceVersion is 409, a failed JSON patch `test` is 422.
import {
  type JsonPatchOperation,
  KubeApiError,
  type NewSecret,
  type SecretClient,
  type StoredSecret,
  type WebhookConfigurationClient,
  type WebhookConfigurationRef,
  type WebhookConfigurationView,
} from "../../src/certificates/clients.js";

/** Lets other calls run in between, as network round trips would. */
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeSecrets implements SecretClient {
  readonly store = new Map<string, StoredSecret>();
  readonly calls: string[] = [];
  #version = 100;

  #key(namespace: string, name: string) {
    return `${namespace}/${name}`;
  }

  /** Puts a Secret in place as if someone else had written it. */
  seed(secret: NewSecret): StoredSecret {
    const stored = { ...structuredClone(secret), resourceVersion: String(++this.#version) };
    this.store.set(this.#key(secret.namespace, secret.name), stored);
    return structuredClone(stored);
  }

  async get(namespace: string, name: string) {
    this.calls.push(`get ${namespace}/${name}`);
    await yieldToOthers();
    const found = this.store.get(this.#key(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  async create(secret: NewSecret) {
    this.calls.push(`create ${secret.namespace}/${secret.name}`);
    await yieldToOthers();
    const key = this.#key(secret.namespace, secret.name);
    if (this.store.has(key)) throw new KubeApiError(409, `secrets "${secret.name}" already exists`);
    return this.seed(secret);
  }

  async replace(secret: StoredSecret) {
    this.calls.push(`replace ${secret.namespace}/${secret.name}`);
    await yieldToOthers();
    const key = this.#key(secret.namespace, secret.name);
    const current = this.store.get(key);
    if (!current) throw new KubeApiError(404, `secrets "${secret.name}" not found`);
    if (current.resourceVersion !== secret.resourceVersion) {
      throw new KubeApiError(409, "the object has been modified");
    }
    // The API server keeps the type: it is immutable.
    return this.seed({ ...secret, type: current.type });
  }

  count(verb: "get" | "create" | "replace"): number {
    return this.calls.filter((c) => c.startsWith(`${verb} `)).length;
  }
}

interface StoredConfiguration {
  webhooks: { name: string; clientConfig: { caBundle?: string; url?: string } }[];
}

export class FakeWebhooks implements WebhookConfigurationClient {
  readonly store = new Map<string, StoredConfiguration>();
  readonly patches: { ref: string; operations: JsonPatchOperation[] }[] = [];

  add(ref: WebhookConfigurationRef, webhookNames: string[], caBundle?: string): void {
    this.store.set(`${ref.kind}/${ref.name}`, {
      webhooks: webhookNames.map((name) => ({
        name,
        clientConfig: caBundle === undefined ? {} : { caBundle },
      })),
    });
  }

  caBundles(ref: WebhookConfigurationRef): (string | undefined)[] {
    return (this.store.get(`${ref.kind}/${ref.name}`)?.webhooks ?? []).map(
      (w) => w.clientConfig.caBundle,
    );
  }

  async get(ref: WebhookConfigurationRef): Promise<WebhookConfigurationView | undefined> {
    await yieldToOthers();
    const found = this.store.get(`${ref.kind}/${ref.name}`);
    if (!found) return undefined;
    return {
      webhooks: found.webhooks.map((w) => ({ name: w.name, caBundle: w.clientConfig.caBundle })),
    };
  }

  async patch(ref: WebhookConfigurationRef, operations: JsonPatchOperation[]): Promise<void> {
    await yieldToOthers();
    const key = `${ref.kind}/${ref.name}`;
    const found = this.store.get(key);
    if (!found) throw new KubeApiError(404, `${key} not found`);
    const copy = structuredClone(found);
    for (const op of operations) {
      const match = /^\/webhooks\/(\d+)\/(name|clientConfig\/caBundle)$/.exec(op.path);
      const webhook = match ? copy.webhooks[Number(match[1])] : undefined;
      if (!match || !webhook) throw new KubeApiError(422, `bad path ${op.path}`);
      if (op.op === "test") {
        if (match[2] !== "name" || webhook.name !== op.value) {
          throw new KubeApiError(422, `test failed at ${op.path}`);
        }
      } else {
        webhook.clientConfig.caBundle = String(op.value);
      }
    }
    this.store.set(key, copy);
    this.patches.push({ ref: key, operations });
  }
}
