import type { CertificateClients, CertificateLogger, WebhookConfigurationRef } from "./clients.js";
import { DAY_MS } from "./plan.js";

/** The Secret deploy/base grants access to (rbac.yaml). */
export const DEFAULT_SECRET_NAME = "tollgate-tls";
/** The Service the API server calls (deploy/base/service.yaml). */
export const DEFAULT_SERVICE = "tollgate";

/** The configurations deploy/base installs; only these are ever patched. */
export const DEFAULT_WEBHOOK_CONFIGURATIONS: readonly WebhookConfigurationRef[] = [
  { kind: "MutatingWebhookConfiguration", name: "tollgate" },
  { kind: "ValidatingWebhookConfiguration", name: "tollgate-enforce" },
  { kind: "ValidatingWebhookConfiguration", name: "tollgate-report" },
  { kind: "ValidatingWebhookConfiguration", name: "tollgate-mode-label" },
];

export interface ManagedCertificatesOptions {
  /** Where Tollgate runs; the Secret and the Service live there. */
  namespace: string;
  /** The Kubernetes calls; `tollgate serve` passes the in-cluster client (kube.ts). */
  clients: CertificateClients;
  /** The Service the API server calls; default `tollgate`. */
  service?: string;
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** More DNS names or IPs for the serving certificate. */
  extraHosts?: readonly string[];
  /** Default `tollgate-tls`. */
  secretName?: string;
  /** Default: tollgate, tollgate-enforce, tollgate-report and tollgate-mode-label. */
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

/** The options with every default applied, and the serving certificate's DNS names. */
export type ResolvedCertificateOptions = Required<
  Omit<ManagedCertificatesOptions, "clients" | "extraHosts">
> & {
  hosts: string[];
};

const silent: CertificateLogger = { info() {}, warn() {}, error() {} };

export function resolveCertificateOptions(
  options: Omit<ManagedCertificatesOptions, "clients">,
): ResolvedCertificateOptions {
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
