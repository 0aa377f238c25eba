// What the certificate manager needs from Kubernetes: a Secret and the
// webhook configurations. kube.ts implements it on
// @kubernetes/client-node; tests use an in-memory fake.

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

/** The first line of an error's message, for a log field. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] || error.name : String(error);
}
