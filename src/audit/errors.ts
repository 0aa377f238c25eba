/** Why an audit could not run; each maps to exit code 2 in the CLI. */
export type AuditErrorReason =
  | "unreachable"
  | "unauthorized"
  | "forbidden"
  | "not-found"
  /** The namespace of a report went away (deleted, or being deleted) while writing. */
  | "gone"
  | "usage"
  | "aborted"
  | "server";

/** An audit failure whose message is one line meant for the user. */
export class AuditError extends Error {
  override name = "AuditError";
  constructor(
    readonly reason: AuditErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** A report write lost a race with another writer; the caller reads again and retries. */
export class ReportConflictError extends Error {
  override name = "ReportConflictError";
}
