import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DashboardModel } from "./model.js";
import type { DashboardState } from "./state.js";

/**
 * Scripts, styles, data and charts come from this server only; nothing inline,
 * no framing, no forms, no plugins. Cluster strings are only ever set as text.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The header a refresh must carry: a cross-site page cannot send it without a preflight we never grant. */
export const REFRESH_HEADER = "x-tollgate-refresh";

interface Asset {
  type: string;
  body: Buffer;
}

function staticFile(name: string): Buffer {
  return readFileSync(fileURLToPath(new URL(`./static/${name}`, import.meta.url)));
}

/** Chart.js's browser build, served from the installed package. */
function chartJs(): Buffer {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return readFileSync(join(dirname(main), "chart.umd.min.js"));
}

function loadAssets(): Map<string, Asset> {
  const js = "text/javascript; charset=utf-8";
  return new Map([
    ["app.js", { type: js, body: staticFile("app.js") }],
    ["view.js", { type: js, body: staticFile("view.js") }],
    ["charts.js", { type: js, body: staticFile("charts.js") }],
    ["style.css", { type: "text/css; charset=utf-8", body: staticFile("style.css") }],
    ["icon.svg", { type: "image/svg+xml", body: staticFile("icon.svg") }],
    ["chart.umd.min.js", { type: js, body: chartJs() }],
  ]);
}

export interface DashboardRoutesOptions {
  state: DashboardState;
  /** Refuses requests whose Host header this rejects (DNS rebinding); default allows all. */
  allowHost?: ((host: string) => boolean) | undefined;
}

function notFound(reply: FastifyReply, message: string) {
  return reply.code(404).send({ statusCode: 404, error: "Not Found", message });
}

/** The overview, or a 503 saying why there is none yet. */
function overviewOf(state: DashboardState) {
  const model = state.current;
  const source = {
    mode: state.options.mode,
    label: state.options.label,
    refreshable: state.refreshable,
    loading: state.loading,
    error: state.error ?? null,
  };
  if (!model) return { source, audit: null };
  return { source, ...overview(model), trend: state.trend };
}

function overview(model: DashboardModel) {
  const { audit } = model;
  return {
    audit: {
      server: audit.server,
      policySet: audit.policySet,
      startedAt: audit.startedAt,
      finishedAt: audit.finishedAt,
      durationMs: audit.durationMs,
      serverVersion: audit.serverVersion,
      version: audit.version,
      exitCode: audit.exitCode,
      notes: audit.notes,
      exemptNamespaces: audit.exemptNamespaces,
      findings: audit.findings.length,
    },
    score: audit.score,
    bySeverity: model.bySeverity,
    policies: model.policyRows,
    namespaces: model.namespaceRows,
    cluster: { ...audit.clusterReport, findings: model.clusterLevelFindings().total },
    checks: audit.checks,
    exceptions: audit.exceptions ?? null,
  };
}

/**
 * The dashboard: GET / (the page), GET /assets/<file>, and the JSON it reads:
 * GET /api/overview, /api/namespaces/<name>, /api/policies/<id>, /api/cluster,
 * plus POST /api/refresh when the state can load a fresh audit. Register it
 * with a prefix to serve it below a path; every answer carries the CSP.
 */
export async function dashboardRoutes(
  app: FastifyInstance,
  options: DashboardRoutesOptions,
): Promise<void> {
  const { state, allowHost } = options;
  const assets = loadAssets();
  const page = staticFile("index.html");

  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (allowHost && !allowHost(request.headers.host ?? "")) {
      return reply.code(403).send({
        statusCode: 403,
        error: "Forbidden",
        message: "this dashboard answers only to the host name it listens on",
      });
    }
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    reply.header("cross-origin-resource-policy", "same-origin");
    reply.header("cache-control", "no-store");
    return payload;
  });

  app.get("/", async (request, reply) => {
    // The page loads its assets relative to itself, so it must end in "/".
    const path = request.url.split("?")[0] ?? "";
    if (!path.endsWith("/")) return reply.redirect(`${path}/`);
    return reply.type("text/html; charset=utf-8").send(page);
  });

  app.get<{ Params: { file: string } }>("/assets/:file", async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return notFound(reply, "no such asset");
    return reply.type(asset.type).send(asset.body);
  });

  app.get("/api/overview", async (_request, reply) => {
    const body = overviewOf(state);
    return reply.code(body.audit ? 200 : 503).send(body);
  });

  const withModel = (reply: FastifyReply): DashboardModel | undefined => {
    if (!state.current) {
      reply
        .code(503)
        .send({ statusCode: 503, error: "Service Unavailable", message: "no audit yet" });
    }
    return state.current;
  };

  app.get<{ Params: { name: string } }>("/api/namespaces/:name", async (request, reply) => {
    const model = withModel(reply);
    if (!model) return reply;
    const { name } = request.params;
    if (!model.hasNamespace(name)) return notFound(reply, "no such namespace in this audit");
    const row = model.namespaceRows.find((r) => r.namespace === name);
    return { namespace: row, ...model.namespaceFindings(name) };
  });

  app.get<{ Params: { id: string } }>("/api/policies/:id", async (request, reply) => {
    const model = withModel(reply);
    if (!model) return reply;
    const row = model.policyRows.find((r) => r.policy === request.params.id);
    const list = model.policyFindings(request.params.id);
    if (!row || !list) return notFound(reply, "no findings of this policy in this audit");
    return { policy: row, ...list };
  });

  app.get("/api/cluster", async (_request, reply) => {
    const model = withModel(reply);
    if (!model) return reply;
    return { checks: model.audit.checks, ...model.clusterLevelFindings() };
  });

  if (state.refreshable) {
    app.post("/api/refresh", async (request, reply) => {
      if (request.headers[REFRESH_HEADER] !== "1") {
        return reply.code(403).send({
          statusCode: 403,
          error: "Forbidden",
          message: `a refresh must carry the ${REFRESH_HEADER}: 1 header`,
        });
      }
      await state.refresh();
      return { ok: state.error === undefined, error: state.error ?? null };
    });
  }
}
