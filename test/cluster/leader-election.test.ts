import { describe, expect, it } from "vitest";
import {
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
  whileLeading,
} from "../../src/cluster/leader-election.js";

/** An in-memory Lease with resourceVersions, like the API server's. */
class FakeLease implements LeaseStore {
  stored: StoredLease | undefined;
  private version = 0;
  failing = false;
  writes = 0;

  async get() {
    if (this.failing) throw new Error("connection refused");
    return this.stored && structuredClone(this.stored);
  }
  async create(record: LeaseRecord) {
    if (this.failing) throw new Error("connection refused");
    if (this.stored) return false;
    this.writes++;
    this.stored = { record: { ...record }, resourceVersion: String(++this.version) };
    return true;
  }
  async update(record: LeaseRecord, resourceVersion: string) {
    if (this.failing) throw new Error("connection refused");
    if (this.stored?.resourceVersion !== resourceVersion) return false;
    this.writes++;
    this.stored = { record: { ...record }, resourceVersion: String(++this.version) };
    return true;
  }
}

const quiet = { info() {}, warn() {} };

/** Replicas sharing one Lease and one fake clock. */
function replicas(names: string[], store = new FakeLease()) {
  const clock = { now: 1_000_000 };
  const events: string[] = [];
  const electors = names.map(
    (identity) =>
      new LeaderElector({
        store,
        identity,
        now: () => clock.now,
        logger: quiet,
        onStartedLeading: () => events.push(`${identity} leads`),
        onStoppedLeading: () => events.push(`${identity} stops`),
      }),
  );
  const leaders = () => electors.filter((e) => e.isLeader()).length;
  /** Every replica looks once, then the clock moves on one retry period. */
  const round = async (only = electors) => {
    for (const e of only) await e.tick();
    clock.now += 2_000;
  };
  return { store, clock, events, electors, leaders, round };
}

describe("leader election on a Lease", () => {
  it("elects exactly one of three replicas, which keeps the Lease while it renews", async () => {
    const { store, electors, leaders, round, events } = replicas(["a", "b", "c"]);
    for (let i = 0; i < 20; i++) {
      await round();
      expect(leaders()).toBe(1);
    }
    expect(electors[0]?.isLeader()).toBe(true);
    expect(store.stored?.record).toMatchObject({ holder: "a", transitions: 0 });
    expect(events).toEqual(["a leads"]);
  });

  it("hands over once the holder stops renewing, after one lease duration of the same record", async () => {
    const { store, electors, round, events } = replicas(["a", "b", "c"]);
    const [a, b, c] = electors as [LeaderElector, LeaderElector, LeaderElector];
    await round();
    // a dies without releasing: b and c see the same record for 15 s of their own clock.
    let rounds = 0;
    while (!b.isLeader() && !c.isLeader() && rounds < 20) {
      await round([b, c]);
      rounds++;
    }
    expect(b.isLeader() || c.isLeader()).toBe(true);
    expect(b.isLeader() && c.isLeader()).toBe(false);
    // 15 s lease, 2 s between looks: taken at the 8th look after the first sight (16 s).
    expect(rounds).toBe(8);
    expect(store.stored?.record).toMatchObject({ holder: "b", transitions: 1 });
    // a comes back, sees b's record and does not lead.
    await round([a]);
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual(["a leads", "b leads", "a stops"]);
  });

  it("hands over at the next look when the holder releases the Lease on shutdown", async () => {
    const { store, electors, round } = replicas(["a", "b"]);
    const [a, b] = electors as [LeaderElector, LeaderElector];
    await round();
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(store.stored?.record.holder).toBe("");
    await round([b]);
    expect(b.isLeader()).toBe(true);
  });

  it("stops leading when it cannot renew within the deadline, before anyone may take over", async () => {
    const { store, electors, round, events } = replicas(["a"]);
    const [a] = electors as [LeaderElector];
    await round();
    store.failing = true;
    let rounds = 0;
    while (a.isLeader() && rounds < 20) {
      await round();
      rounds++;
    }
    // Renewed last at t0; the 10 s deadline passes at the 6th failing look (t0 + 12 s),
    // before the 15 s after which others would take over.
    expect(rounds).toBe(6);
    expect(events).toEqual(["a leads", "a stops"]);
    store.failing = false;
    await round();
    expect(a.isLeader()).toBe(true);
  });

  it("never lets two replicas win the same record: the second write conflicts", async () => {
    const store = new FakeLease();
    const { electors, leaders } = replicas(["a", "b"], store);
    // Both read "no Lease" before either creates it.
    await Promise.all(electors.map((e) => e.tick()));
    expect(leaders()).toBe(1);
  });

  it("refuses a renew deadline that is not shorter than the lease duration", () => {
    expect(
      () =>
        new LeaderElector({
          store: new FakeLease(),
          identity: "a",
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          logger: quiet,
          onStartedLeading() {},
          onStoppedLeading() {},
        }),
    ).toThrow(/renew deadline/);
  });
});

describe("whileLeading", () => {
  it("runs the work only on the leader, and stops it and releases the Lease on stop", async () => {
    const store = new FakeLease();
    const started: string[] = [];
    const stopped: string[] = [];
    const run = (identity: string) =>
      whileLeading(
        () => {
          started.push(identity);
          return {
            stop: async () => {
              stopped.push(identity);
            },
          };
        },
        { store, identity, logger: quiet, retryPeriodMs: 60_000 },
      );
    const a = run("a");
    // The first look happens at once; let it finish.
    await new Promise((r) => setTimeout(r, 20));
    const b = run("b");
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toEqual(["a"]);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    await a.stop();
    expect(stopped).toEqual(["a"]);
    expect(store.stored?.record.holder).toBe("");
    await b.stop();
    expect(stopped).toEqual(["a"]);
  });
});
