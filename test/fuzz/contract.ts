// The fuzzer's oracle, written from the admission.k8s.io/v1 types and
// docs/server.md rather than from Tollgate's parser: which requests the
// webhook must answer with an AdmissionReview, and what a valid answer is.
import jsonpatch from "fast-json-patch";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);
const MODES = new Set(["enforce", "warn", "audit", "off"]);
const JSON_TYPES = new Set(["application/json", "application/json; charset=utf-8"]);

/** A request the webhook must answer with a 200 AdmissionReview. */
export interface WellFormed {
  uid: string;
  phase: "validate" | "mutate";
  /** The mode the endpoint names, if any. */
  mode: string | undefined;
}

function optional(value: unknown, check: (v: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

const isString = (v: unknown) => typeof v === "string";

/**
 * Whether the parsed body is an AdmissionReview the API server could send:
 * the v1 envelope with a non-empty uid, a kind with a version and a name, a
 * known operation, objects that are objects (or null), and the optional
 * fields with their types. What is inside the objects is the client's
 * business: any JSON object must be answered.
 */
function isReview(body: unknown): body is { request: Json & { uid: string } } {
  if (!isObject(body) || body.apiVersion !== "admission.k8s.io/v1") return false;
  if (body.kind !== "AdmissionReview" || !isObject(body.request)) return false;
  const r = body.request;
  const kind = r.kind;
  return (
    typeof r.uid === "string" &&
    r.uid.length > 0 &&
    isObject(kind) &&
    typeof kind.version === "string" &&
    typeof kind.kind === "string" &&
    kind.kind.length > 0 &&
    optional(kind.group, isString) &&
    typeof r.operation === "string" &&
    OPERATIONS.has(r.operation) &&
    optional(r.name, isString) &&
    optional(r.namespace, isString) &&
    optional(r.subResource, isString) &&
    optional(r.dryRun, (v) => typeof v === "boolean") &&
    optional(r.object, (v) => v === null || isObject(v)) &&
    optional(r.oldObject, (v) => v === null || isObject(v)) &&
    optional(
      r.userInfo,
      (v) =>
        isObject(v) &&
        optional(v.username, isString) &&
        optional(v.groups, (g) => Array.isArray(g) && g.every(isString)),
    )
  );
}

/** The endpoint's phase and mode, or undefined for a path the webhook does not serve. */
function endpointOf(
  path: string,
): { phase: "validate" | "mutate"; mode: string | undefined } | undefined {
  const [route = "", query = ""] = path.split("?");
  const [, phase, mode, extra] = route.split("/");
  if ((phase !== "validate" && phase !== "mutate") || extra !== undefined) return undefined;
  const queried = new URLSearchParams(query).get("mode") ?? undefined;
  for (const m of [mode, queried]) if (m !== undefined && !MODES.has(m)) return undefined;
  return { phase, mode: mode ?? queried };
}

/**
 * What the webhook owes this request: an answer (WellFormed), or, for
 * anything else, only a refusal that is not a server error. Bodies are read
 * as the server reads them: UTF-8 with replacement characters, JSON.parse.
 */
export function expectationOf(
  path: string,
  contentType: string | undefined,
  body: Buffer,
  bodyLimit: number,
): WellFormed | undefined {
  const endpoint = endpointOf(path);
  if (!endpoint || contentType === undefined || !JSON_TYPES.has(contentType)) return undefined;
  if (body.length > bodyLimit) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  return isReview(parsed) ? { uid: parsed.request.uid, ...endpoint } : undefined;
}

/** What is wrong with a 200 answer to `expected`, or undefined when it is a valid AdmissionReview. */
export function answerProblem(
  answer: string,
  expected: WellFormed,
  object: () => unknown,
): string | undefined {
  let review: unknown;
  try {
    review = JSON.parse(answer);
  } catch {
    return "answer is not JSON";
  }
  if (!isObject(review) || review.apiVersion !== "admission.k8s.io/v1")
    return "answer is not an admission.k8s.io/v1 object";
  if (review.kind !== "AdmissionReview" || !isObject(review.response))
    return "answer has no AdmissionReview response";
  const response = review.response;
  if (response.uid !== expected.uid)
    return `answer uid ${JSON.stringify(response.uid)} is not the request's`;
  if (typeof response.allowed !== "boolean") return "response.allowed is not a boolean";
  const failOpen =
    expected.phase === "mutate" || (expected.mode !== undefined && expected.mode !== "enforce");
  if (!response.allowed && failOpen) return `${expected.phase} in mode ${expected.mode} denied`;
  if (!response.allowed) {
    const status = response.status;
    if (!isObject(status) || typeof status.code !== "number" || typeof status.message !== "string")
      return "a denial without status.code and status.message";
  }
  if (!optional(response.warnings, (w) => Array.isArray(w) && w.every(isString)))
    return "warnings is not a list of strings";
  if (response.patch === undefined) return undefined;
  if (expected.phase !== "mutate") return "/validate answered with a patch";
  if (response.patchType !== "JSONPatch" || typeof response.patch !== "string")
    return "patch without patchType JSONPatch";
  return patchProblem(response.patch, object);
}

/** A patch must be base64 of a JSON Patch that applies to the request's object. */
function patchProblem(patch: string, object: () => unknown): string | undefined {
  let operations: unknown;
  try {
    operations = JSON.parse(Buffer.from(patch, "base64").toString("utf8"));
  } catch {
    return "patch is not base64 JSON";
  }
  if (!Array.isArray(operations) || operations.length === 0) return "patch is not a non-empty list";
  try {
    jsonpatch.applyPatch(object(), operations as jsonpatch.Operation[], true, true);
  } catch (error) {
    return `patch does not apply to the object: ${(error as Error).message.split("\n")[0]}`;
  }
  return undefined;
}
