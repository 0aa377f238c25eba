// Leader election on a coordination.k8s.io/v1 Lease, so that of several
// replicas exactly one runs the background audit and writes PolicyReports.
// The protocol is the one Kubernetes' own controllers use: the holder renews
// the Lease every retry period; another replica takes it over only once it has
// seen the same record unchanged for a whole lease duration (measured on its
// own clock, so clock skew between nodes does not matter), or at once when the
// holder released it on shutdown. A holder that cannot renew within the renew
// deadline, shorter than the lease duration, stops leading before anyone else
// may start. The Lease API is behind LeaseStore; leader-election-kube.ts
// implements it on @kubernetes/client-node, tests use an in-memory fake.

/** The Lease's spec as this module reads and writes it. */
export interface LeaseRecord {
  /** Empty when nobody holds it (released). */
  holder: string;
  leaseDurationSeconds: number;
  /** Milliseconds since the epoch. */
  acquireTime: number;
  renewTime: number;
  transitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  /** Optimistic concurrency: an update carrying an older one fails. */
  resourceVersion: string;
}

export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<StoredLease | undefined>;
  /** Creates it; false when it already exists (someone else was first). */
  create(record: LeaseRecord): Promise<boolean>;
  /** Replaces it if still at `resourceVersion`; false on a conflict. */
  update(record: LeaseRecord, resourceVersion: string): Promise<boolean>;
}

export interface ElectionLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  /** This replica's name in the Lease (the pod name). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal; default 10 s. */
  renewDeadlineMs?: number;
  /** How often every replica looks at the Lease; default 2 s. */
  retryPeriodMs?: number;
  now?: () => number;
  logger: ElectionLogger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** The Lease the background audit's replicas elect their leader on. */
export const AUDIT_LEASE_NAME = "tollgate-audit";

export const DEFAULT_LEASE_DURATION_MS = 15_000;
const DEFAULT_RENEW_DEADLINE_MS = 10_000;
const DEFAULT_RETRY_PERIOD_MS = 2_000;

/** One replica's side of the election; `tick` is one look at the Lease. */
export class LeaderElector {
  private leading = false;
  /** The record last seen and when this replica first saw it, by its own clock. */
  private observed: { key: string; at: number } | undefined;
  /** When the leader last renewed successfully. */
  private renewedAt = 0;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.now = options.now ?? Date.now;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new Error("the renew deadline must be shorter than the lease duration");
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  private record(acquireTime: number, transitions: number): LeaseRecord {
    return {
      holder: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime,
      renewTime: this.now(),
      transitions,
    };
  }

  private setLeading(leading: boolean, why: string): void {
    if (leading === this.leading) return;
    this.leading = leading;
    const { identity, logger } = this.options;
    logger.info({ identity, leading }, why);
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  /** Looks at the Lease once: acquires, renews, or follows. Never throws. */
  async tick(): Promise<void> {
    try {
      await this.attempt();
    } catch (error) {
      this.options.logger.warn(
        { identity: this.options.identity, err: (error as Error).message },
        "leader election: the Lease could not be read or written",
      );
    }
    if (this.leading && this.now() - this.renewedAt > this.renewDeadlineMs) {
      this.setLeading(false, "leader election: lost the lease (no renewal within the deadline)");
    }
  }

  private async attempt(): Promise<void> {
    const { store, identity } = this.options;
    const now = this.now();
    const stored = await store.get();
    if (!stored) {
      if (await store.create(this.record(now, 0))) this.acquired(now);
      return;
    }
    const { record, resourceVersion } = stored;
    if (record.holder === identity) {
      if (
        await store.update(this.record(record.acquireTime, record.transitions), resourceVersion)
      ) {
        this.acquired(now);
      }
      return;
    }
    // Another holder, or none: may it be taken over yet?
    const key = `${record.holder}\u0000${record.renewTime}\u0000${resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    const durationMs = Math.max(record.leaseDurationSeconds * 1000, 1000);
    const free = record.holder === "" || now - this.observed.at >= durationMs;
    if (this.leading) this.setLeading(false, "leader election: another replica holds the lease");
    if (!free) return;
    if (await store.update(this.record(now, record.transitions + 1), resourceVersion)) {
      this.acquired(now);
    }
  }

  private acquired(now: number): void {
    this.renewedAt = now;
    this.setLeading(true, "leader election: leading");
  }

  /**
   * Stops leading and, when this replica holds the Lease, empties its holder
   * so another replica takes over at its next look instead of after a lease
   * duration. Best effort: a failure only delays the handover.
   */
  async release(): Promise<void> {
    const wasLeading = this.leading;
    this.setLeading(false, "leader election: stopped");
    if (!wasLeading) return;
    try {
      const stored = await this.options.store.get();
      if (stored?.record.holder !== this.options.identity) return;
      await this.options.store.update(
        { ...stored.record, holder: "", leaseDurationSeconds: 1, renewTime: this.now() },
        stored.resourceVersion,
      );
    } catch (error) {
      this.options.logger.warn(
        { identity: this.options.identity, err: (error as Error).message },
        "leader election: the Lease could not be released; another replica takes over when it expires",
      );
    }
  }
}

export interface RunningElection {
  isLeader(): boolean;
  /** Stops looking at the Lease and releases it. */
  stop(): Promise<void>;
}

/** Runs the election: one tick at once, then one every retry period, never overlapping. */
export function startLeaderElection(options: LeaderElectionOptions): RunningElection {
  const elector = new LeaderElector(options);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  const loop = () => {
    if (stopped) return;
    current = elector.tick().finally(() => {
      current = undefined;
      if (stopped) return;
      timer = setTimeout(loop, elector.retryPeriodMs);
      timer.unref();
    });
  };
  loop();
  return {
    isLeader: () => elector.isLeader(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
      await elector.release();
    },
  };
}

/** Something started while this replica leads and stopped when it no longer does. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs `start()` only while this replica holds the Lease: started on winning
 * it, stopped on losing it (and started again on winning it back). Stopping
 * the result ends the election, stops what runs and releases the Lease.
 */
export function whileLeading(
  start: () => Stoppable,
  election: Omit<LeaderElectionOptions, "onStartedLeading" | "onStoppedLeading">,
): Stoppable & { isLeader(): boolean } {
  let running: Stoppable | undefined;
  let stopping: Promise<void> = Promise.resolve();
  const halt = () => {
    const current = running;
    running = undefined;
    if (current) stopping = stopping.then(() => current.stop());
  };
  const elected = startLeaderElection({
    ...election,
    onStartedLeading: () => {
      running ??= start();
    },
    onStoppedLeading: halt,
  });
  return {
    isLeader: () => elected.isLeader(),
    async stop() {
      await elected.stop();
      halt();
      await stopping;
    },
  };
}
