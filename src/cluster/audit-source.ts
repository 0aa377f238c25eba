import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { ApiException, type KubeConfig, VersionApi } from "@kubernetes/client-node";
import { KIND_INFO, type KindInfo, qualifiedResource } from "../audit/kinds.js";
import type { ClusterSource, ListPage, ServerVersion } from "../audit/types.js";
import type { KubeObject } from "../engine/index.js";
import { httpStatusOf, kubeStatusOf } from "./api-errors.js";
import { toAuditError, withRetry } from "./audit-connect.js";

/** A list response as the API server sends it; items lack apiVersion and kind. */
interface ListBody {
  items?: unknown;
  metadata?: { continue?: unknown; remainingItemCount?: unknown };
}

/** The URL path of a kind's collection, across namespaces or in one. */
export function collectionPath(info: KindInfo, namespace: string | undefined): string {
  const root = info.apiVersion.includes("/")
    ? `/apis/${info.apiVersion}`
    : `/api/${info.apiVersion}`;
  const scope =
    info.namespaced && namespace !== undefined
      ? `/namespaces/${encodeURIComponent(namespace)}`
      : "";
  return `${root}${scope}/${info.resource}`;
}

function headerRecord(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/**
 * GETs `path` from the kubeconfig's server and parses the body as JSON, as
 * the server wrote it: no client-node model in between, so fields newer than
 * the client's generated models reach the policies. Credentials, TLS and
 * proxies come from client-node's kubeconfig handling. A status outside 2xx
 * is thrown as client-node's ApiException, which the audit's error
 * translation and retries read.
 */
async function getJson(kc: KubeConfig, server: string, path: string): Promise<unknown> {
  // Appended, not resolved: a server URL may carry a path prefix (a proxy's).
  const url = new URL(`${server.replace(/\/+$/, "")}${path}`);
  const options: RequestOptions = { method: "GET" };
  await kc.applyToHTTPSOptions(options as Parameters<KubeConfig["applyToHTTPSOptions"]>[0]);
  options.headers = { ...options.headers, Accept: "application/json" };
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  const { status, headers, text } = await new Promise<{
    status: number;
    headers: IncomingHttpHeaders;
    text: string;
  }>((resolve, reject) => {
    const req = send(url, options, (res) => {
      // Decoded as it arrives: each chunk's buffer is garbage at once, and
      // the page is never held twice (chunks, then their concatenation).
      res.setEncoding("utf8");
      let text = "";
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  if (status < 200 || status > 299) {
    throw new ApiException(
      status,
      `HTTP ${status} for GET ${url.pathname}`,
      text,
      headerRecord(headers),
    );
  }
  return JSON.parse(text) as unknown;
}

/**
 * The object as an admission review carries it: with apiVersion and kind,
 * which list items lack. The item was parsed for this call alone, so they
 * are set on it rather than on a copy, which would keep the parsed page
 * alive until its last object has been judged.
 */
function withType(item: unknown, info: KindInfo): KubeObject {
  const object =
    item !== null && typeof item === "object" && !Array.isArray(item) ? (item as KubeObject) : {};
  object.apiVersion = info.apiVersion;
  object.kind = info.kind;
  return object;
}

/** Reads the cluster as plain JSON over the kubeconfig's connection. */
export class KubeAuditSource implements ClusterSource {
  readonly endpoint: string;
  private readonly version: VersionApi;

  constructor(private readonly kc: KubeConfig) {
    this.endpoint = kc.getCurrentCluster()?.server ?? "(unknown server)";
    this.version = kc.makeApiClient(VersionApi);
  }

  listableKinds(): readonly string[] {
    return [...KIND_INFO.keys()];
  }

  async *list(
    kind: string,
    namespace: string | undefined,
    pageSize: number,
  ): AsyncGenerator<ListPage> {
    const info = KIND_INFO.get(kind);
    if (!info) throw new Error(`the audit cannot list ${kind}`);
    const scoped = info.namespaced && namespace !== undefined;
    const path = collectionPath(info, scoped ? namespace : undefined);
    const attempt = {
      verb: "list",
      resource: qualifiedResource(info),
      namespace: scoped ? namespace : undefined,
      endpoint: this.endpoint,
    };
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(pageSize) });
      if (token) query.set("continue", token);
      let page: ListBody;
      try {
        page = (await withRetry(() =>
          getJson(this.kc, this.endpoint, `${path}?${query}`),
        )) as ListBody;
      } catch (error) {
        // An expired continue token: the server offers one that continues
        // without the snapshot guarantee, which beats starting over.
        const fresh =
          httpStatusOf(error) === 410 ? kubeStatusOf(error)?.metadata?.continue : undefined;
        if (token && fresh) {
          token = fresh;
          continue;
        }
        throw toAuditError(error, attempt);
      }
      const next = page.metadata?.continue;
      token = typeof next === "string" && next !== "" ? next : undefined;
      const remaining = page.metadata?.remainingItemCount;
      // The parsed array itself, so that the objects the audit lets go of
      // are not still held here.
      const items: unknown[] = Array.isArray(page.items) ? page.items : [];
      for (let i = 0; i < items.length; i++) items[i] = withType(items[i], info);
      yield {
        items: items as KubeObject[],
        remaining: typeof remaining === "number" ? remaining : undefined,
      };
    } while (token);
  }

  async getNamespace(name: string): Promise<KubeObject | undefined> {
    const info = KIND_INFO.get("Namespace") as KindInfo;
    const path = `${collectionPath(info, undefined)}/${encodeURIComponent(name)}`;
    try {
      return withType(await withRetry(() => getJson(this.kc, this.endpoint, path)), info);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw toAuditError(error, { verb: "get", resource: "namespaces", endpoint: this.endpoint });
    }
  }

  async serverVersion(): Promise<ServerVersion | undefined> {
    try {
      const v = await withRetry(() => this.version.getCode());
      return { major: v.major, minor: v.minor, gitVersion: v.gitVersion };
    } catch {
      return undefined;
    }
  }
}
