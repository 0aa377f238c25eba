import type { ChecklistRef } from "../engine/index.js";
import { itemKey } from "./reach.js";
import type { AuditAction, AuditFinding } from "./types.js";

export type ActionCounts = Record<AuditAction, number>;

export function zeroActions(): ActionCounts {
  return { deny: 0, warn: 0, audit: 0, patch: 0, report: 0 };
}

/** The key of the cluster-wide bucket: findings with no (audited) namespace. */
export const CLUSTER_BUCKET = "";

const ACTION_RANK: Record<AuditAction, number> = {
  deny: 4,
  report: 3,
  warn: 2,
  audit: 1,
  patch: 0,
};
const SEVERITY_RANK: Record<string, number> = { critical: 3, high: 2, medium: 1, low: 0 };

/** How much a finding matters when only some can be kept: action first, then severity. */
export function importance(finding: AuditFinding): number {
  return ACTION_RANK[finding.action] * 10 + (SEVERITY_RANK[finding.severity] ?? 0);
}

interface Ranked<T> {
  value: T;
  rank: number;
  seq: number;
}

/**
 * The `capacity` most important values seen, in O(log n) per offer: a
 * min-heap whose root is the least important kept value (on equal rank, the
 * later one, so earlier findings win ties).
 */
export class TopN<T> {
  private readonly heap: Ranked<T>[] = [];
  private seq = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  get full(): boolean {
    return this.heap.length >= this.capacity;
  }

  /** In no particular order. */
  values(): T[] {
    return this.heap.map((r) => r.value);
  }

  private less(a: Ranked<T>, b: Ranked<T>): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.seq > b.seq);
  }

  private swap(i: number, j: number) {
    const h = this.heap;
    [h[i], h[j]] = [h[j] as Ranked<T>, h[i] as Ranked<T>];
  }

  private up(i: number) {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.heap[i] as Ranked<T>, this.heap[parent] as Ranked<T>)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number) {
    const n = this.heap.length;
    for (;;) {
      let least = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < n && this.less(this.heap[child] as Ranked<T>, this.heap[least] as Ranked<T>)) {
          least = child;
        }
      }
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  /**
   * Offers a value. Returns what was dropped: nothing (undefined) when it
   * was added to a heap with room, the evicted value when it replaced a less
   * important one, or the value itself when it was not kept.
   */
  offer(value: T, rank: number, room = true): { dropped: T | undefined } {
    const entry = { value, rank, seq: this.seq++ };
    if (!this.full && room) {
      this.heap.push(entry);
      this.up(this.heap.length - 1);
      return { dropped: undefined };
    }
    const root = this.heap[0];
    if (!root || !this.less(root, entry)) return { dropped: value };
    this.heap[0] = entry;
    this.down(0);
    return { dropped: root.value };
  }
}

/** Findings and counts of one report: a namespace, or the cluster. */
export interface Bucket {
  /** Unset for the cluster bucket. */
  namespace?: string | undefined;
  /** PolicyReport summary counts; always complete, whatever was omitted. `skip`: excepted findings. */
  counts: { pass: number; fail: number; warn: number; error: number; skip: number };
  /** The most important findings, at most `maxResults`, in no particular order. */
  readonly kept: AuditFinding[];
  /** Findings counted but not kept, because of the cap or the memory budget. */
  omitted: number;
}

class BucketState implements Bucket {
  counts = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  omitted = 0;
  readonly top: TopN<AuditFinding>;

  constructor(
    readonly namespace: string | undefined,
    capacity: number,
  ) {
    this.top = new TopN(capacity);
  }

  get kept(): AuditFinding[] {
    return this.top.values();
  }
}

export interface ItemTally {
  byAction: ActionCounts;
  findings: number;
  /** Evaluations by a policy or check of this item, passed or not. */
  checked: number;
  /** The most important few findings, for examples. */
  readonly examples: AuditFinding[];
}

class ItemState implements ItemTally {
  byAction = zeroActions();
  findings = 0;
  checked = 0;
  readonly top: TopN<AuditFinding>;

  constructor(capacity: number) {
    this.top = new TopN(capacity);
  }

  get examples(): AuditFinding[] {
    return this.top.values().sort((a, b) => importance(b) - importance(a));
  }
}

export interface RuleTally {
  source: "policy" | "check";
  /** Findings that count, PolicyException-covered ones aside (`excepted`). */
  findings: number;
  excepted: number;
  passes: number;
  byAction: ActionCounts;
}

export interface KindCounts {
  /** Objects the list calls returned. */
  listed: number;
  /** Objects run through the engine. */
  evaluated: number;
  /** Objects a controller owns whose own kind is audited: the owner's findings stand for them. */
  coveredByOwner: number;
  /** Objects in namespaces no policy applies to (kube-system, Tollgate's own...). */
  exempt: number;
  /** Objects in namespaces being deleted, which are skipped. */
  deleting: number;
}

export interface TallyLimits {
  /** Findings kept per bucket: what its PolicyReport can list. */
  maxResults: number;
  /** Findings kept across all buckets; bounds memory on clusters with very many namespaces. */
  maxRetained: number;
  /** Examples kept per checklist item. */
  examplesPerItem: number;
}

export const DEFAULT_LIMITS: TallyLimits = {
  maxResults: 200,
  maxRetained: 50_000,
  examplesPerItem: 3,
};

/**
 * Everything an audit remembers. Memory is bounded by the number of
 * namespaces, rules and checklist items, plus at most `maxRetained` findings
 * (the most important `maxResults` of each bucket): objects are never kept,
 * and every other finding is only counted.
 */
export class AuditTally {
  private readonly bucketStates = new Map<string, BucketState>();
  private readonly itemStates = new Map<string, ItemState>();
  readonly rules = new Map<string, RuleTally>();
  readonly kinds = new Map<string, KindCounts>();
  readonly totals: ActionCounts = zeroActions();
  /** Objects with at least one deny finding: what admission would reject. */
  deniedObjects = 0;
  /** Findings a PolicyException covered, by exception (`namespace/name`). */
  readonly excepted = new Map<string, number>();
  retained = 0;

  constructor(readonly limits: TallyLimits = DEFAULT_LIMITS) {}

  get buckets(): ReadonlyMap<string, Bucket> {
    return this.bucketStates;
  }

  get items(): ReadonlyMap<string, ItemTally> {
    return this.itemStates;
  }

  bucket(key: string): Bucket {
    let bucket = this.bucketStates.get(key);
    if (!bucket) {
      bucket = new BucketState(key === CLUSTER_BUCKET ? undefined : key, this.limits.maxResults);
      this.bucketStates.set(key, bucket);
    }
    return bucket;
  }

  kind(kind: string): KindCounts {
    let counts = this.kinds.get(kind);
    if (!counts) {
      counts = { listed: 0, evaluated: 0, coveredByOwner: 0, exempt: 0, deleting: 0 };
      this.kinds.set(kind, counts);
    }
    return counts;
  }

  private item(ref: ChecklistRef): ItemState {
    const key = itemKey(ref);
    let tally = this.itemStates.get(key);
    if (!tally) {
      tally = new ItemState(this.limits.examplesPerItem);
      this.itemStates.set(key, tally);
    }
    return tally;
  }

  private rule(id: string, source: RuleTally["source"]): RuleTally {
    let tally = this.rules.get(id);
    if (!tally) {
      tally = { source, findings: 0, excepted: 0, passes: 0, byAction: zeroActions() };
      this.rules.set(id, tally);
    }
    return tally;
  }

  /** Records a passed evaluation of one rule in one bucket, and of each item it judged. */
  pass(
    bucketKey: string,
    rule: { id: string; source: RuleTally["source"] },
    items: readonly ChecklistRef[],
  ) {
    this.bucket(bucketKey).counts.pass++;
    this.rule(rule.id, rule.source).passes++;
    for (const ref of items) this.item(ref).checked++;
  }

  /** Records that an item was judged and found clean by a rule that failed on another item. */
  judged(ref: ChecklistRef) {
    this.item(ref).checked++;
  }

  /**
   * Counts a finding and keeps it if it is among its bucket's most important.
   * An excepted one (`skip`) is counted apart: not in the totals, the rules'
   * findings or the checklist items, since admission lets it through; it is
   * kept below every finding that counts, so reports list it when there is room.
   */
  add(bucketKey: string, finding: AuditFinding): void {
    const bucket = this.bucket(bucketKey) as BucketState;
    bucket.counts[finding.result]++;
    if (finding.exception) {
      const id = `${finding.exception.namespace}/${finding.exception.name}`;
      this.excepted.set(id, (this.excepted.get(id) ?? 0) + 1);
      this.rule(finding.policy, finding.source).excepted++;
      this.keep(bucket, finding, -1);
      return;
    }
    this.totals[finding.action]++;
    const rule = this.rule(finding.policy, finding.source);
    rule.findings++;
    rule.byAction[finding.action]++;
    const item = this.item(finding.checklist);
    item.findings++;
    item.checked++;
    item.byAction[finding.action]++;
    const rank = importance(finding);
    item.top.offer(finding, rank);
    this.keep(bucket, finding, rank);
  }

  private keep(bucket: BucketState, finding: AuditFinding, rank: number): void {
    const room = this.retained < this.limits.maxRetained;
    const before = bucket.top.size;
    const { dropped } = bucket.top.offer(finding, rank, room);
    if (bucket.top.size > before) this.retained++;
    if (dropped !== undefined) bucket.omitted++;
  }

  /** Findings counted but not kept, over all buckets. */
  get omitted(): number {
    let total = 0;
    for (const bucket of this.bucketStates.values()) total += bucket.omitted;
    return total;
  }
}
