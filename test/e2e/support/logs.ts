// Reading what the API server and Tollgate recorded: the API server's audit
// log (JSON lines) and Tollgate's own decision log (pino JSON lines).
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { cluster, localCluster } from "./cluster.js";

/** The part of an audit.k8s.io/v1 Event the tests look at. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    subresource?: string;
    apiGroup?: string;
  };
  responseStatus?: { code?: number; message?: string };
  annotations?: Record<string, string>;
}

/** Tollgate's "admission decision" line (src/server/routes.ts). */
export interface Decision {
  phase: "validate" | "mutate" | "guard";
  kind: string;
  namespace?: string;
  name: string;
  operation: string;
  mode: string;
  dryRun: boolean;
  decision: "allowed" | "denied";
  policies: string[];
  patched: string[];
}

/** Reads the complete lines appended to a file since the cursor was made. */
export class LineCursor {
  private offset: number;
  private partial = "";

  constructor(private readonly file: string) {
    this.offset = statSync(file).size;
  }

  /** Lines appended since the last call (or since the cursor was made). */
  read(): string[] {
    const size = statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // truncated: the file was started over
    if (size === this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString("utf8")).split("\n");
    this.partial = lines.pop() ?? "";
    return lines.filter((line) => line.trim() !== "");
  }
}

function parsed<T>(lines: string[]): T[] {
  const out: T[] = [];
  for (const line of lines) {
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line that is not JSON (start-tollgate.sh's separators, a stack trace)
    }
  }
  return out;
}

async function poll<T>(what: string, attempt: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = attempt();
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Audit events written from now on. */
export class AuditLog {
  private readonly cursor: LineCursor;
  private readonly seen: AuditEvent[] = [];

  constructor() {
    const file = cluster().auditLog;
    if (!file) throw new Error("no readable audit log for this cluster (TOLLGATE_E2E_AUDIT_LOG)");
    this.cursor = new LineCursor(file);
  }

  events(): AuditEvent[] {
    this.seen.push(...parsed<AuditEvent>(this.cursor.read()));
    return this.seen;
  }

  /** The ResponseComplete event of `verb` on the object, once it is written. */
  waitFor(
    match: { verb: string; resource: string; namespace: string; name: string },
    timeoutMs = 10_000,
  ): Promise<AuditEvent> {
    return poll(
      `the audit event of ${match.verb} ${match.resource} ${match.namespace}/${match.name}`,
      () =>
        this.events().find(
          (e) =>
            e.stage === "ResponseComplete" &&
            e.verb === match.verb &&
            e.objectRef?.resource === match.resource &&
            e.objectRef?.namespace === match.namespace &&
            e.objectRef?.name === match.name &&
            !e.objectRef?.subresource,
        ),
      timeoutMs,
    );
  }
}

/** Tollgate's decision lines written from now on (local control plane only). */
export class DecisionLog {
  private readonly cursor = new LineCursor(localCluster().logFile);
  private readonly seen: Decision[] = [];

  decisions(): Decision[] {
    const lines = parsed<Decision & { msg?: string }>(this.cursor.read());
    this.seen.push(...lines.filter((line) => line.msg === "admission decision"));
    return this.seen;
  }

  /**
   * Decisions about objects in `namespace`, leaving out the mode-label guard's
   * decision on the Namespace itself: made when the test created it, it can
   * reach the log after the cursor was made, since lines are written in
   * batches of up to 100 ms.
   */
  inNamespace(namespace: string): Decision[] {
    return this.decisions().filter((d) => d.namespace === namespace && d.kind !== "Namespace");
  }

  /** Decisions about one object (every phase and operation). */
  about(namespace: string, name: string): Decision[] {
    return this.decisions().filter((d) => d.namespace === namespace && d.name === name);
  }

  /** Waits for the decision of `phase` on the object (lines are written in batches, docs/server.md#logs). */
  waitFor(
    match: { phase: Decision["phase"]; namespace: string; name: string; operation?: string },
    timeoutMs = 5_000,
  ): Promise<Decision> {
    return poll(
      `Tollgate's ${match.phase} decision on ${match.namespace}/${match.name}`,
      () =>
        this.about(match.namespace, match.name).find(
          (d) =>
            d.phase === match.phase &&
            (match.operation === undefined || d.operation === match.operation),
        ),
      timeoutMs,
    );
  }
}
