import { performance } from "node:perf_hooks";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { type ExceptedViolation, POLICY_TYPES } from "../engine/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import { type AdmissionRequest, displayName, parseAdmissionReview } from "./admission.js";
import { createBatcher } from "./batch.js";
import { type Decision, decide, type WebhookPhase } from "./decide.js";
import { decisionLine } from "./logger.js";
import { countExceptions, countViolations, kindLabel } from "./metrics.js";
import { guardModeLabel } from "./mode-label.js";
import { NAMESPACE_MODES, type NamespaceMode } from "./namespace-mode.js";

/** The endpoints: the two halves of admission, and the mode-label guard. */
type Endpoint = WebhookPhase | "guard";

type Decider = (
  review: AdmissionRequest,
  request: FastifyRequest<AdmissionRoute>,
  policies: ResolvedPolicySet,
) => Promise<Decision>;

/** `privileged team-a/csi-node`, as the decision log lists what exceptions let through. */
function exceptionLabel(v: ExceptedViolation): string {
  return `${v.policy} ${v.exception.namespace}/${v.exception.name}`;
}

interface AdmissionRoute {
  Params: { mode?: NamespaceMode };
  Querystring: { mode?: NamespaceMode };
}

/** `mode` in the path (`/validate/warn`) or the query (`/validate?mode=warn`). */
const modeSchema = {
  type: "object",
  properties: { mode: { type: "string", enum: [...NAMESPACE_MODES] } },
} as const;

const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

/** Lets Fastify serialise answers with a precompiled serializer. */
const reviewSchema = {
  type: "object",
  required: ["apiVersion", "kind", "response"],
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    response: {
      type: "object",
      required: ["uid", "allowed"],
      properties: {
        uid: { type: "string" },
        allowed: { type: "boolean" },
        status: {
          type: "object",
          properties: {
            status: { type: "string" },
            code: { type: "integer" },
            reason: { type: "string" },
            message: { type: "string" },
          },
        },
        warnings: { type: "array", items: { type: "string" } },
        auditAnnotations: stringMap,
        patchType: { type: "string" },
        patch: { type: "string" },
      },
    },
  },
} as const;

function unique(values: readonly string[]): string[] {
  return values.length < 2 ? [...values] : [...new Set(values)];
}

/**
 * POST /validate and POST /mutate: one AdmissionReview in, one out. Bodies
 * that are not an AdmissionReview get a 400 naming the field; everything
 * else gets a 200 the API server can act on.
 *
 * The mode can be fixed per endpoint, as each webhook configuration's
 * namespaceSelector implies it: `/validate/enforce` is what a webhook can
 * call (its service path allows no query string); `/validate?mode=enforce`
 * is the same for curl. The path wins over the query; with neither, the
 * namespace's mode label decides.
 */
export async function admissionRoutes(app: FastifyInstance): Promise<void> {
  // Only JSON is an AdmissionReview; without this, text/plain would be parsed too.
  app.removeContentTypeParser("text/plain");
  const { metrics } = app.tollgate;
  const logDecision = decisionLine(app.log as Logger, "admission decision");
  // Decisions run in batches, one per turn of the event loop (batch.ts says why).
  const inBatch = createBatcher();

  /** One endpoint: parse, decide with `decideWith`, count, log, answer. */
  const handle = (phase: Endpoint, decideWith: Decider) => {
    async function admit(
      request: FastifyRequest<AdmissionRoute>,
      reply: FastifyReply,
      started: number,
    ) {
      const parsed = parseAdmissionReview(request.body);
      if (!parsed.ok) {
        request.log.warn(
          { phase, problem: parsed.message },
          "rejected a malformed AdmissionReview",
        );
        reply.code(400);
        return { statusCode: 400, error: "Bad Request", message: parsed.message };
      }
      const policies = app.tollgate.policies();
      if (!policies) {
        reply.code(503);
        return { statusCode: 503, error: "Service Unavailable", message: "policy set not loaded" };
      }
      const review = parsed.request;
      const decision = await decideWith(review, request, policies);
      const seconds = (performance.now() - started) / 1000;
      const { verdict, mode } = decision;
      const allowed = decision.review.response.allowed;
      const outcome = allowed ? "allowed" : "denied";

      metrics.duration.observe({ phase }, seconds);
      metrics.requests.inc({
        operation: review.operation,
        kind: kindLabel(review.kind.kind, policies.set.byKind),
        mode,
        decision: outcome,
        dry_run: review.dryRun === true ? "true" : "false",
      });
      if (verdict) {
        countViolations(metrics, verdict.violations, mode);
        countExceptions(metrics, verdict.excepted);
        for (const policy of verdict.mutatedBy) metrics.mutations.inc({ policy });
      }
      logDecision({
        reqId: request.id,
        uid: review.uid,
        phase,
        kind: review.kind.kind,
        namespace: review.namespace || undefined,
        name: displayName(review),
        operation: review.operation,
        subResource: review.subResource || undefined,
        mode,
        dryRun: review.dryRun === true,
        decision: outcome,
        policies: verdict ? unique(verdict.violations.map((v) => v.policy)) : [],
        patched: phase === "mutate" && verdict ? verdict.mutatedBy : [],
        excepted: verdict ? unique(verdict.excepted.map((v) => exceptionLabel(v))) : [],
        annotations:
          mode === "guard" || mode === "exempt-subject"
            ? decision.review.response.auditAnnotations
            : undefined,
        durationMs: Math.round(seconds * 1e6) / 1e3,
      });
      return decision.review;
    }
    // The whole of it, shape check included, runs in the turn's batch; the
    // clock starts when the body was parsed, so the wait is counted.
    return (request: FastifyRequest<AdmissionRoute>, reply: FastifyReply) => {
      const started = performance.now();
      return inBatch(() => admit(request, reply, started));
    };
  };

  const schema = { querystring: modeSchema, response: { 200: reviewSchema } };
  const withMode = { ...schema, params: modeSchema };
  for (const phase of POLICY_TYPES) {
    const policiesFor: Decider = (review, request, policies) =>
      decide(review, phase, request.params.mode ?? request.query.mode, {
        policies,
        resolveMode: app.tollgate.resolveMode,
        namespaceObject: app.tollgate.namespaceObject,
        exceptions: app.tollgate.exceptions(),
        now: Date.now(),
      });
    app.post<AdmissionRoute>(`/${phase}`, { schema }, handle(phase, policiesFor));
    app.post<AdmissionRoute>(`/${phase}/:mode`, { schema: withMode }, handle(phase, policiesFor));
  }
  const guard: Decider = async (review, _request, policies) => {
    return { review: guardModeLabel(review, policies.settings), mode: "guard", verdict: undefined };
  };
  app.post<AdmissionRoute>("/guard/mode-label", { schema }, handle("guard", guard));
}
