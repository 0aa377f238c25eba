// The certificate manager's Kubernetes calls, on @kubernetes/client-node 1.x
// (object-style parameters). Errors become KubeApiError with the HTTP status,
// so the certificate manager (managed.ts) never sees client-node types.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from "@kubernetes/client-node";
import { httpStatusOf, kubeStatusOf } from "../cluster/api-errors.js";
import { loadKubeConfig } from "../cluster/kubeconfig.js";
import {
  type CertificateClients,
  KubeApiError,
  type NewSecret,
  type SecretClient,
  type StoredSecret,
  type WebhookConfigurationClient,
  type WebhookConfigurationRef,
  type WebhookConfigurationView,
} from "./clients.js";

const FIELD_MANAGER = "tollgate";

/** Runs one API call, turning client-node's ApiException into KubeApiError. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const status = httpStatusOf(error);
    if (status !== undefined) {
      const detail = kubeStatusOf(error)?.message ?? `HTTP ${status}`;
      throw new KubeApiError(status, `${what}: ${detail}`);
    }
    throw error;
  }
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    out[key] = Buffer.from(value, "base64").toString("utf8");
  }
  return out;
}

function encode(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    out[key] = Buffer.from(value, "utf8").toString("base64");
  }
  return out;
}

function toStored(secret: V1Secret, namespace: string): StoredSecret {
  const meta = secret.metadata ?? {};
  return {
    namespace: meta.namespace ?? namespace,
    name: meta.name ?? "",
    resourceVersion: meta.resourceVersion ?? "",
    type: secret.type ?? "Opaque",
    labels: { ...(meta.labels ?? {}) },
    annotations: { ...(meta.annotations ?? {}) },
    data: decode(secret.data),
  };
}

function toBody(secret: NewSecret, resourceVersion?: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: secret.name,
      namespace: secret.namespace,
      labels: secret.labels,
      annotations: secret.annotations,
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    type: secret.type,
    data: encode(secret.data),
  };
}

export function secretClient(core: CoreV1Api): SecretClient {
  return {
    async get(namespace, name) {
      const found = await orUndefined(
        call(`read Secret ${namespace}/${name}`, () =>
          core.readNamespacedSecret({ namespace, name }),
        ),
      );
      return found ? toStored(found, namespace) : undefined;
    },
    async create(secret) {
      const created = await call(`create Secret ${secret.namespace}/${secret.name}`, () =>
        core.createNamespacedSecret({
          namespace: secret.namespace,
          body: toBody(secret),
          fieldManager: FIELD_MANAGER,
        }),
      );
      return toStored(created, secret.namespace);
    },
    async replace(secret) {
      // metadata.resourceVersion makes the API server refuse a stale write with 409.
      const replaced = await call(`replace Secret ${secret.namespace}/${secret.name}`, () =>
        core.replaceNamespacedSecret({
          namespace: secret.namespace,
          name: secret.name,
          body: toBody(secret, secret.resourceVersion),
          fieldManager: FIELD_MANAGER,
        }),
      );
      return toStored(replaced, secret.namespace);
    },
  };
}

interface RawWebhookConfiguration {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

function toView(config: RawWebhookConfiguration): WebhookConfigurationView {
  return {
    webhooks: (config.webhooks ?? []).map((w) => ({
      name: w.name,
      caBundle: w.clientConfig?.caBundle || undefined,
    })),
  };
}

export function webhookConfigurationClient(
  admission: AdmissionregistrationV1Api,
): WebhookConfigurationClient {
  const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
  return {
    async get(ref: WebhookConfigurationRef) {
      const what = `read ${ref.kind} ${ref.name}`;
      const found = await orUndefined<RawWebhookConfiguration>(
        ref.kind === "ValidatingWebhookConfiguration"
          ? call(what, () => admission.readValidatingWebhookConfiguration({ name: ref.name }))
          : call(what, () => admission.readMutatingWebhookConfiguration({ name: ref.name })),
      );
      return found ? toView(found) : undefined;
    },
    async patch(ref, operations) {
      const what = `patch ${ref.kind} ${ref.name}`;
      const request = { name: ref.name, body: operations, fieldManager: FIELD_MANAGER };
      if (ref.kind === "ValidatingWebhookConfiguration") {
        await call(what, () => admission.patchValidatingWebhookConfiguration(request, jsonPatch));
      } else {
        await call(what, () => admission.patchMutatingWebhookConfiguration(request, jsonPatch));
      }
    },
  };
}

/** Clients for a KubeConfig; by default the pod's service account (or KUBECONFIG outside a pod). */
export function inClusterCertificateClients(config?: KubeConfig): CertificateClients {
  const kc = config ?? loadKubeConfig();
  return {
    secrets: secretClient(kc.makeApiClient(CoreV1Api)),
    webhooks: webhookConfigurationClient(kc.makeApiClient(AdmissionregistrationV1Api)),
  };
}
