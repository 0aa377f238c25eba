import { isRecord } from "../engine/index.js";
import { fieldOf } from "../policyset/errors.js";
import { compileException, type PolicyException } from "./exception.js";
import { EXCEPTION_API_VERSION, EXCEPTION_KIND, exceptionObjectSchema } from "./schema.js";

/** An exception that cannot be used, with where it is; the others still apply. */
export interface ExceptionProblem {
  /** `team-a/csi-node`, or the file and document it came from. */
  where: string;
  field: string;
  message: string;
}

export type ParsedException =
  | { ok: true; exception: PolicyException }
  | { ok: false; problem: ExceptionProblem };

/** Whether a manifest is a PolicyException at all (of any version). */
export function isPolicyException(value: unknown): boolean {
  return (
    isRecord(value) &&
    value.kind === EXCEPTION_KIND &&
    typeof value.apiVersion === "string" &&
    value.apiVersion.startsWith("tollgate.dev/")
  );
}

function nameOf(value: unknown, defaultNamespace: string | undefined): string {
  const meta = isRecord(value) && isRecord(value.metadata) ? value.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : "(no name)";
  const namespace = typeof meta.namespace === "string" ? meta.namespace : defaultNamespace;
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * Validates one PolicyException object. `defaultNamespace` stands in for a
 * missing metadata.namespace, as `kubectl apply -n` would; `where` says where
 * the object came from when it is not the cluster.
 */
export function parseException(
  value: unknown,
  options: { defaultNamespace?: string | undefined; where?: string | undefined } = {},
): ParsedException {
  const { defaultNamespace } = options;
  const where = options.where ?? `PolicyException ${nameOf(value, defaultNamespace)}`;
  let candidate = value;
  if (
    defaultNamespace &&
    isRecord(value) &&
    isRecord(value.metadata) &&
    !value.metadata.namespace
  ) {
    candidate = { ...value, metadata: { ...value.metadata, namespace: defaultNamespace } };
  }
  const result = exceptionObjectSchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = fieldOf(issue?.path ?? []) || "(top level)";
    let message = issue?.message ?? "invalid";
    if (field === "apiVersion") message = `must be ${EXCEPTION_API_VERSION}`;
    return { ok: false, problem: { where, field, message } };
  }
  const { metadata, spec } = result.data;
  return { ok: true, exception: compileException(metadata.namespace, metadata.name, spec) };
}

/** `storage/csi-node: spec.reason: is required`. */
export function formatExceptionProblem(problem: ExceptionProblem): string {
  return `${problem.where}: ${problem.field}: ${problem.message}`;
}
