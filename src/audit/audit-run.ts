import {
  type ClusterCheckDeclaration,
  describeResource,
  type PolicyDeclaration,
  type PolicySet,
} from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import { AuditError } from "./errors.js";
import { ObjectEvaluator } from "./evaluate-object.js";
import { type CheckFacts, type Observers, observersOf } from "./facts.js";
import { type ListPlan, planListing } from "./kinds.js";
import { AuditTally, DEFAULT_LIMITS, type TallyLimits } from "./tally.js";
import type { AuditFinding, AuditResourceRef } from "./types.js";

export interface AuditRunOptions {
  limits?: Partial<TallyLimits> | undefined;
  onFinding?: ((finding: AuditFinding) => void | Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
}

function checkFinding(
  check: ClusterCheckDeclaration,
  message: string,
  resource: AuditResourceRef | undefined,
  path?: string,
): AuditFinding {
  return {
    source: "check",
    policy: check.id,
    title: check.title,
    checklist: check.checklist,
    severity: check.severity,
    action: "report",
    result: "fail",
    message: resource ? `${describeResource(resource)}: ${message}` : message,
    resource,
    path,
    scope: check.scope,
  };
}

/**
 * The state of one audit while it runs: the listing plan, the tally, the
 * per-namespace facts and which namespaces were audited, exempt or being
 * deleted. The phases of `runAudit` share it; nothing else outlives the run.
 */
export class AuditRun {
  readonly plan: ListPlan;
  readonly tally: AuditTally;
  readonly declarations: ReadonlyMap<string, PolicyDeclaration>;
  readonly evaluator: ObjectEvaluator;
  /** What the cluster checks observed, by check id. */
  readonly facts: CheckFacts = new Map();
  readonly observers: Observers;
  readonly audited = new Set<string>();
  readonly exemptSeen = new Set<string>();
  /** Namespaces being deleted: nothing in them is audited, and no report can be written there. */
  readonly deleting = new Set<string>();
  readonly notes: string[];

  constructor(
    readonly set: PolicySet,
    readonly clusterChecks: readonly LoadedClusterCheck[],
    listableKinds: readonly string[],
    private readonly options: AuditRunOptions,
  ) {
    this.observers = observersOf(clusterChecks);
    this.tally = new AuditTally({ ...DEFAULT_LIMITS, ...options.limits });
    this.plan = planListing(set, listableKinds);
    this.declarations = new Map(set.policies.map((p) => [p.declaration.id, p.declaration]));
    this.evaluator = new ObjectEvaluator(set, this.declarations);
    this.notes = this.plan.unsupported.map(
      ({ kind, policies }) =>
        `not audited: ${kind}, matched by ${policies.join(", ")}, is a kind the audit does not list`,
    );
  }

  isExempt(namespace: string): boolean {
    return this.set.exemptNamespace(namespace);
  }

  throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new AuditError("aborted", "the audit was stopped");
  }

  /** Counts a finding and hands it to the caller's `onFinding`. */
  async emit(bucketKey: string, finding: AuditFinding): Promise<void> {
    this.tally.add(bucketKey, finding);
    if (this.options.onFinding) await this.options.onFinding(finding);
  }

  passCheck(bucketKey: string, check: ClusterCheckDeclaration): void {
    this.tally.pass(bucketKey, { id: check.id, source: "check" }, check.checklist);
  }

  async failCheck(
    bucketKey: string,
    check: ClusterCheckDeclaration,
    problem: string,
    resource: AuditResourceRef | undefined,
    path?: string,
  ): Promise<void> {
    await this.emit(bucketKey, checkFinding(check, problem, resource, path));
  }

  /** Records a namespace asked for by name as audited or exempt. */
  noteNamespace(name: string): void {
    if (this.isExempt(name)) {
      this.exemptSeen.add(name);
      return;
    }
    this.audited.add(name);
    this.tally.bucket(name);
  }
}
