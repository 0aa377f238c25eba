import {
  type ChecklistMapping,
  coveredItems,
  type ExceptionSource,
  type PolicyDeclaration,
  type PolicySet,
} from "../engine/index.js";
import type { LoadedClusterCheck } from "../policyset/index.js";
import { ObjectEvaluator } from "./evaluate-object.js";
import { type Observers, observersOf } from "./facts.js";
import { type ListPlan, planListing } from "./kinds.js";

/**
 * Everything an audit decides before reading anything: what to list, what
 * to evaluate and with what. Built once by `planAudit`, read by every later
 * step, changed by none.
 */
export interface AuditPlan {
  readonly set: PolicySet;
  readonly listing: ListPlan;
  readonly clusterChecks: readonly LoadedClusterCheck[];
  /** For each listed kind, the cluster checks that observe it. */
  readonly observers: Observers;
  readonly declarations: ReadonlyMap<string, PolicyDeclaration>;
  /**
   * The checklist items each enabled policy judges with its parameters (a
   * part whose parameter is off left out): what its pass is a pass of.
   */
  readonly items: ReadonlyMap<string, readonly ChecklistMapping[]>;
  readonly evaluator: ObjectEvaluator;
  /** Namespaces to read; undefined reads the whole cluster. */
  readonly namespaces: readonly string[] | undefined;
  readonly pageSize: number;
  /** Namespaces whose PolicyExceptions count (the PolicySet's exceptionNamespaces). */
  readonly mayHoldExceptions: (namespace: string) => boolean;
  /** What the plan already knows it cannot audit. */
  readonly notes: readonly string[];
}

export interface PlanOptions {
  namespaces: readonly string[] | undefined;
  pageSize: number;
  /** The PolicyExceptions admission would honour, judged at `now` (ms). */
  exceptions?: ExceptionSource | undefined;
  now?: number | undefined;
  /** The PolicySet's exceptionNamespaces; every namespace when unset. */
  mayHoldExceptions?: ((namespace: string) => boolean) | undefined;
}

/** Plans an audit of `set` and the cluster checks over what the source can list. */
export function planAudit(
  set: PolicySet,
  clusterChecks: readonly LoadedClusterCheck[],
  listableKinds: readonly string[],
  { namespaces, pageSize, exceptions, now, mayHoldExceptions }: PlanOptions,
): AuditPlan {
  const listing = planListing(set, listableKinds);
  const declarations = new Map(set.policies.map((p) => [p.declaration.id, p.declaration]));
  return {
    set,
    listing,
    clusterChecks,
    observers: observersOf(clusterChecks),
    declarations,
    items: new Map(
      set.policies.map(({ declaration: d }) => [d.id, coveredItems(d.checklist, d.parameters)]),
    ),
    evaluator: new ObjectEvaluator(set, declarations, exceptions, now),
    namespaces,
    pageSize,
    mayHoldExceptions: mayHoldExceptions ?? (() => true),
    notes: listing.unsupported.map(
      ({ kind, policies }) =>
        `not audited: ${kind}, matched by ${policies.join(", ")}, is a kind the audit does not list`,
    ),
  };
}
