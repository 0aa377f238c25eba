import type { Observation } from "../engine/index.js";
import type { CheckFacts } from "./facts.js";
import type { ClusterResult } from "./judge-cluster.js";
import type { ObjectJudgement } from "./judge-object.js";
import type { ListedObject } from "./listed-object.js";
import { AuditTally, type TallyLimits } from "./tally.js";

/**
 * The tally step: the only state of an audit that grows while it runs.
 * Each judgement is added once; the plan, the listing and the judges never
 * see it. Memory is bounded by namespaces, rules and checklist items, the
 * checks' small facts and the tally's capped findings.
 */
export class AuditLedger {
  readonly tally: AuditTally;
  /** Audited namespaces (not exempt, not being deleted). */
  readonly audited = new Set<string>();
  readonly exempt = new Set<string>();
  /** Namespaces being deleted: nothing in them is audited, and no report can be written there. */
  readonly deleting = new Set<string>();
  private readonly observed = new Map<string, Observation<unknown>[]>();

  constructor(limits: TallyLimits) {
    this.tally = new AuditTally(limits);
  }

  /** What each cluster check observed, by check id. */
  get facts(): CheckFacts {
    return this.observed;
  }

  /**
   * Hands over what one check observed and forgets it: the facts are judged
   * once, and then only the outcomes the tally keeps need memory.
   */
  takeFacts(check: string): Observation<unknown>[] {
    const facts = this.observed.get(check) ?? [];
    this.observed.delete(check);
    return facts;
  }

  recordObject(listed: ListedObject, judgement: ObjectJudgement): void {
    const { tally } = this;
    const counts = tally.kind(listed.kind);
    counts.listed++;
    const { home } = listed;
    if (judgement.disposition === "deleting") {
      counts.deleting++;
      if (home !== undefined) this.deleting.add(home);
      return;
    }
    if (home !== undefined) {
      (listed.exempt ? this.exempt : this.audited).add(home);
      // Every audited namespace gets a report, findings or not.
      if (listed.kind === "Namespace" && !listed.exempt) tally.bucket(home);
    }
    for (const { check, observation } of judgement.facts) {
      const list = this.observed.get(check) ?? [];
      list.push(observation);
      this.observed.set(check, list);
    }
    if (judgement.disposition !== "not-evaluated") counts[judgement.disposition]++;
    for (const pass of judgement.passes) tally.pass(judgement.bucket, pass, pass.checklist);
    for (const item of judgement.judged) tally.judged(item);
    if (judgement.denied) tally.deniedObjects++;
    for (const finding of judgement.findings) tally.add(judgement.bucket, finding);
  }

  recordCluster({ bucket, pass, finding }: ClusterResult): void {
    if (pass) this.tally.pass(bucket, pass, pass.checklist);
    else this.tally.add(bucket, finding);
  }
}
