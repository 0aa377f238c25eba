import { z } from "zod";
import { type AdmissionInput, isRecord, type KubeObject, OPERATIONS } from "../engine/index.js";
import { MAX_OBJECT_DEPTH, nestsDeeperThan } from "./depth.js";

/** The only AdmissionReview version Tollgate speaks; webhook configurations must ask for it. */
export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** A KubeObject is any plain object here: its fields are the policies' to judge. */
const isObject = (value: unknown): value is KubeObject => isRecord(value);

// Objects are checked for shape only and passed on as they are: parsing them
// with a schema would copy every field of every request. A null object
// becomes undefined after the parse, not in a zod transform: with one, zod
// kept each parsed body alive past the young generation (its cycle guard for
// transforms), and the server promoted ~1.3 MB per scavenge at full load
// (docs/benchmarks.md, "Per-request work, December 6").
const kubeObject = z.custom<KubeObject>(isObject, { message: "must be an object" }).nullish();

const groupVersionKind = z.object({
  group: z.string().default(""),
  version: z.string(),
  kind: z.string().min(1),
});

const admissionRequest = z.object({
  uid: z.string().min(1),
  kind: groupVersionKind,
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(OPERATIONS),
  userInfo: z
    .object({
      username: z.string().optional(),
      uid: z.string().optional(),
      groups: z.array(z.string()).optional(),
      extra: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
  object: kubeObject,
  oldObject: kubeObject,
  dryRun: z.boolean().optional(),
});

const admissionReview = z.object({
  apiVersion: z.literal(ADMISSION_API_VERSION, {
    message: `must be ${ADMISSION_API_VERSION}; configure the webhook with admissionReviewVersions: ["v1"]`,
  }),
  kind: z.literal("AdmissionReview", { message: "must be AdmissionReview" }),
  request: admissionRequest,
});

/** An admission request as the engine is given it: an absent object is undefined, never null. */
export type AdmissionRequest = Omit<z.infer<typeof admissionRequest>, "object" | "oldObject"> & {
  object?: KubeObject | undefined;
  oldObject?: KubeObject | undefined;
};

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  const path = issue.path.map(String).join(".");
  if (path === "request" && isObject(body) && body.request === undefined) {
    return "AdmissionReview has no request";
  }
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return `${path} is required`;
  }
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Checks that a parsed JSON body is an admission.k8s.io/v1 AdmissionReview
 * carrying a request, and explains the first problem when it is not. The
 * message names fields only, never values, so it is safe to log.
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, message: "body must be an AdmissionReview object" };
  const result = admissionReview.safeParse(body);
  if (result.success) {
    const { request } = result.data;
    const object = request.object ?? undefined;
    const oldObject = request.oldObject ?? undefined;
    return { ok: true, request: { ...request, object, oldObject } };
  }
  const [issue] = result.error.issues;
  return { ok: false, message: issue ? describeIssue(issue, body) : "invalid AdmissionReview" };
}

/**
 * The first of request.object and request.oldObject nested deeper than
 * MAX_OBJECT_DEPTH, as a message, else undefined. Checked before anything
 * walks the objects recursively.
 */
export function depthProblem(request: AdmissionRequest): string | undefined {
  for (const field of ["object", "oldObject"] as const) {
    if (nestsDeeperThan(request[field], MAX_OBJECT_DEPTH)) {
      return `request.${field} nests deeper than ${MAX_OBJECT_DEPTH} levels; Tollgate does not evaluate it`;
    }
  }
  return undefined;
}

/** What the engine needs from an admission request. */
export function admissionInputOf(request: AdmissionRequest): AdmissionInput {
  return {
    operation: request.operation,
    kind: request.kind,
    namespace: request.namespace || undefined,
    name: request.name || undefined,
    object: request.object,
    oldObject: request.oldObject,
    dryRun: request.dryRun === true,
    userInfo: request.userInfo,
  };
}

/** The name to log: the request's, else the object's, else its generateName prefix. */
export function displayName(request: AdmissionRequest): string | undefined {
  if (request.name) return request.name;
  const meta = (request.object ?? request.oldObject)?.metadata;
  if (meta?.name) return meta.name;
  return meta?.generateName ? `${meta.generateName}*` : undefined;
}
