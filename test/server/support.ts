// Shared fixtures for the webhook tests: policy sets, AdmissionReviews, an app
// whose log lines are captured, and an HTTPS client that can be pinned to a CA.
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import type { ClientRequest, IncomingMessage } from "node:http";
import { type Agent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import type { KubeObject, Operation } from "../../src/engine/index.js";
import { type ResolvedPolicySet, resolvePolicySet } from "../../src/policyset/index.js";
import { type AppDeps, buildApp } from "../../src/server/app.js";
import { createReadiness, type Readiness } from "../../src/server/health.js";
import { createLogger } from "../../src/server/logger.js";
import { defaultModeOnly, type ModeResolver } from "../../src/server/mode.js";
import type { AdmissionReviewReply } from "../../src/server/response.js";
import { shippedPolicies } from "../support/policies.js";

const POLICY_SET_HEADER = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };

/** Only the named shipped policies, so assertions do not move as policies are added. */
export function policySetOf(ids: string[], file: Record<string, unknown> = {}): ResolvedPolicySet {
  const chosen = shippedPolicies().filter((p) => ids.includes(p.declaration.id));
  if (chosen.length !== ids.length) throw new Error(`unknown policy among ${ids.join(", ")}`);
  return resolvePolicySet(chosen, { ...POLICY_SET_HEADER, ...file }, "test policy set");
}

/** Every shipped policy with the default settings, as `tollgate serve` runs without --config. */
export function fullPolicySet(): ResolvedPolicySet {
  return resolvePolicySet(shippedPolicies(), POLICY_SET_HEADER, "built-in defaults");
}

/** Captures JSON log lines written by a pino logger. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => this.lines.push(line) },
  });

  get text(): string {
    return this.lines.join("");
  }

  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  withMessage(msg: string): Record<string, unknown>[] {
    return this.records().filter((r) => r.msg === msg);
  }
}

export interface TestApp {
  app: FastifyInstance;
  logs: LogCapture;
  registry: Registry;
  readiness: Readiness;
  /** Replace to hot-swap the policy set. */
  policies: { current: ResolvedPolicySet | undefined };
}

export function testApp(
  options: Partial<
    Pick<AppDeps, "bodyLimit" | "requestTimeoutMs" | "dashboard" | "exceptions" | "namespaceObject">
  > & {
    policies?: ResolvedPolicySet;
    resolveMode?: ModeResolver;
  } = {},
): TestApp {
  const logs = new LogCapture();
  const registry = new Registry();
  const readiness = createReadiness();
  const policies = {
    current: options.policies ?? policySetOf(["privileged", "service-account-token"]),
  };
  const app = buildApp({
    policies: () => policies.current,
    logger: logs.logger,
    registry,
    resolveMode: options.resolveMode ?? defaultModeOnly,
    readiness,
    bodyLimit: options.bodyLimit,
    requestTimeoutMs: options.requestTimeoutMs,
    processMetrics: false,
    dashboard: options.dashboard,
    exceptions: options.exceptions,
    namespaceObject: options.namespaceObject,
  });
  return { app, logs, registry, readiness, policies };
}

export function privilegedPod(name = "shell", namespace = "apps"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      containers: [
        {
          name: "app",
          image: "mcr.microsoft.com/app:1.0",
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

export function plainPod(name = "web", namespace = "apps"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: { containers: [{ name: "app", image: "mcr.microsoft.com/app:1.0" }] },
  };
}

export function privilegedDeployment(name = "web", namespace = "apps"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: "sidecar", image: "mcr.microsoft.com/proxy:1.0" },
            {
              name: "app",
              image: "mcr.microsoft.com/app:1.0",
              securityContext: { privileged: true },
            },
          ],
        },
      },
    },
  };
}

const RESOURCES: Record<string, string> = {
  Pod: "pods",
  Deployment: "deployments",
  Secret: "secrets",
  ConfigMap: "configmaps",
};

export interface ReviewOptions {
  uid?: string;
  operation?: Operation;
  namespace?: string;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
  subResource?: string;
  /** Replaces `object` (DELETE sends null). */
  object?: KubeObject | null;
  /** Who sent the request (default alice@example.com, authenticated). */
  userInfo?: {
    username?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
  };
}

/** An admission.k8s.io/v1 AdmissionReview as the API server sends it. */
export function reviewOf(object: KubeObject, options: ReviewOptions = {}): Record<string, unknown> {
  const apiVersion = object.apiVersion ?? "v1";
  const slash = apiVersion.indexOf("/");
  const group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  const kind = { group, version, kind: object.kind ?? "" };
  const resource = {
    group,
    version,
    resource: RESOURCES[kind.kind] ?? `${kind.kind.toLowerCase()}s`,
  };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid ?? "3f0c9a4e-1d2b-4c55-9e8f-000000000001",
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      ...(options.subResource ? { subResource: options.subResource } : {}),
      name: object.metadata?.name,
      namespace: options.namespace ?? object.metadata?.namespace,
      operation: options.operation ?? "CREATE",
      userInfo: options.userInfo ?? {
        username: "alice@example.com",
        groups: ["system:authenticated"],
      },
      object: options.object === undefined ? object : options.object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
    },
  };
}

export async function post(
  app: FastifyInstance,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: "POST",
    url,
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Posts a review and returns the AdmissionResponse, failing unless the answer is a 200. */
export async function admit(
  app: FastifyInstance,
  url: string,
  review: unknown,
): Promise<AdmissionReviewReply["response"]> {
  const reply = await post(app, url, review);
  if (reply.statusCode !== 200) throw new Error(`${url}: ${reply.statusCode} ${reply.body}`);
  const body = reply.json() as AdmissionReviewReply;
  return body.response;
}

export interface HttpsResult {
  status: number;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

/**
 * One HTTPS request on a fresh connection, trusting only `ca`. With several
 * CAs the chain is checked here instead of by OpenSSL: every CA that
 * generateCertificates makes has the same subject, and OpenSSL would only try
 * the first one it finds with that name.
 */
export function httpsCall(options: {
  port: number;
  path: string;
  ca: string | string[];
  method?: string;
  body?: string;
  host?: string;
  timeoutMs?: number;
}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: options.host ?? "127.0.0.1",
        port: options.port,
        path: options.path,
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        ...(Array.isArray(options.ca) && options.ca.length > 1
          ? { rejectUnauthorized: false }
          : { ca: options.ca }),
        agent: false,
        headers: options.body === undefined ? {} : { "content-type": "application/json" },
        timeout: options.timeoutMs ?? 10_000,
      },
      (response) => {
        const socket = response.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const fingerprint = peer.fingerprint256;
        if (Array.isArray(options.ca) && options.ca.length > 1) {
          const served = new X509Certificate(peer.raw);
          const host = options.host ?? "127.0.0.1";
          const trusted = options.ca.some((pem) =>
            served.verify(new X509Certificate(pem).publicKey),
          );
          const named = isIP(host) ? served.checkIP(host) : served.checkHost(host);
          if (!trusted || !named) {
            response.destroy();
            reject(new Error(`untrusted certificate ${fingerprint}`));
            return;
          }
        }
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            fingerprint,
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
    request.end(options.body);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Opens a POST of `body` to /validate through `agent` (keep-alive tests) and
 * leaves writing the body to the caller, which may send it in pieces.
 */
export function validatePost(
  port: number,
  agent: Agent,
  body: string,
  onAnswer: (res: IncomingMessage) => void,
): ClientRequest {
  return httpsRequest(
    {
      host: "127.0.0.1",
      port,
      path: "/validate",
      method: "POST",
      agent,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      },
    },
    onAnswer,
  );
}

/**
 * Runs `script` (CommonJS) in a child Node process, so that it talks to a
 * server in this process while this one is blocked; resolves with what it
 * printed, trimmed, once it exits.
 */
export function outputOfChild(script: string): Promise<string> {
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  return new Promise((done) => child.on("exit", () => done(out.trim())));
}
