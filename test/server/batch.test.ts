import { describe, expect, it } from "vitest";
import { createBatcher, MAX_BATCH } from "../../src/server/batch.js";
import { admit, plainPod, privilegedPod, reviewOf, testApp } from "./support.js";

/** Resolves after the turn of the event loop in which it was called. */
const nextTurn = () => new Promise((done) => setImmediate(done));

describe("createBatcher", () => {
  it("runs nothing until the current turn is over, then every job in arrival order", async () => {
    const inBatch = createBatcher();
    const ran: number[] = [];
    const results = [1, 2, 3].map((n) =>
      inBatch(() => {
        ran.push(n);
        return n * 10;
      }),
    );
    expect(ran).toEqual([]);
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
    expect(ran).toEqual([1, 2, 3]);
  });

  it("runs the jobs of one turn back to back, before the continuation of any of them", async () => {
    const inBatch = createBatcher();
    const events: string[] = [];
    const jobs = ["a", "b", "c"].map((name) =>
      inBatch(() => events.push(`run ${name}`)).then(() => events.push(`after ${name}`)),
    );
    await Promise.all(jobs);
    expect(events).toEqual(["run a", "run b", "run c", "after a", "after b", "after c"]);
  });

  it("rejects only the job that threw; the others of its batch still run", async () => {
    const inBatch = createBatcher();
    const outcomes = await Promise.allSettled([
      inBatch(() => "first"),
      inBatch(() => {
        throw new Error("policy failed");
      }),
      inBatch(() => "third"),
    ]);
    expect(outcomes).toEqual([
      { status: "fulfilled", value: "first" },
      { status: "rejected", reason: new Error("policy failed") },
      { status: "fulfilled", value: "third" },
    ]);
  });

  it("settles with what an asynchronous job settles with", async () => {
    const inBatch = createBatcher();
    await expect(inBatch(async () => "later")).resolves.toBe("later");
    await expect(inBatch(() => Promise.reject(new Error("no")))).rejects.toThrow("no");
  });

  it("runs at most maxBatch jobs per turn and lets other work run between batches", async () => {
    const inBatch = createBatcher(4);
    const events: string[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) => inBatch(() => events.push(`job ${i}`)));
    // Queued after the first batch was scheduled: runs between the first and the second.
    setImmediate(() => events.push("io"));
    await Promise.all(jobs);
    expect(events).toEqual([
      "job 0",
      "job 1",
      "job 2",
      "job 3",
      "io",
      "job 4",
      "job 5",
      "job 6",
      "job 7",
      "job 8",
      "job 9",
    ]);
  });

  it("starts a new batch for work that arrives once the last one ran", async () => {
    const inBatch = createBatcher();
    await expect(inBatch(() => 1)).resolves.toBe(1);
    await nextTurn();
    await expect(inBatch(() => 2)).resolves.toBe(2);
    // Work queued by a job lands in a later batch rather than being lost.
    const nested = await inBatch(() => inBatch(() => "inner"));
    expect(nested).toBe("inner");
  });

  it("refuses a batch size that is not a positive integer", () => {
    expect(() => createBatcher(0)).toThrow(/maxBatch must be a positive integer, got 0/);
    expect(() => createBatcher(1.5)).toThrow(/got 1.5/);
    expect(MAX_BATCH).toBeGreaterThan(1);
  });
});

describe("the webhook with many requests in flight", () => {
  it("gives each request its own answer and its own decision line", async () => {
    const { app, logs } = testApp();
    // More than one batch: requests sent at once are decided in batches of MAX_BATCH.
    const count = MAX_BATCH * 2 + 7;
    const uid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const pod = i % 2 === 0 ? privilegedPod(`shell-${i}`) : plainPod(`web-${i}`);
        return admit(app, "/validate?mode=enforce", reviewOf(pod, { uid: uid(i) }));
      }),
    );
    answers.forEach((answer, i) => {
      expect(answer.uid).toBe(uid(i));
      expect(answer.allowed).toBe(i % 2 !== 0);
    });
    const lines = logs.withMessage("admission decision");
    expect(lines).toHaveLength(count);
    const byUid = new Map(lines.map((line) => [line.uid, line]));
    for (let i = 0; i < count; i++) {
      expect(byUid.get(uid(i))).toMatchObject({
        name: i % 2 === 0 ? `shell-${i}` : `web-${i}`,
        decision: i % 2 === 0 ? "denied" : "allowed",
      });
    }
  });
});
