/**
 * Most decisions a batch runs before it lets the event loop take new I/O.
 * Each costs tens of microseconds, so a full batch holds the loop for a few
 * milliseconds at most; the rest wait for the next turn, after the sockets
 * that became readable meanwhile (a health probe, say) were served.
 */
export const MAX_BATCH = 64;

/** Runs `work` in the current batch and settles with what it returns or throws. */
export type Batcher = <T>(work: () => T | PromiseLike<T>) => Promise<T>;

interface Job {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * Defers work to the end of the event loop's I/O turn and runs everything
 * deferred there back to back, in arrival order, at most `maxBatch` at a
 * time.
 *
 * Why: under load, one turn reads, decrypts and parses many requests. Deciding
 * each right after its own parsing alternates the engine's code and data with
 * Node's TLS and HTTP code, and each evicts the other from the CPU's caches;
 * deciding them one after another keeps each half warm. On the bench this
 * halved the CPU per AdmissionReview (docs/benchmarks.md, "Server,
 * December 6, third pass"). A lone request waits only for the rest of its
 * turn, a few microseconds.
 */
export function createBatcher(maxBatch: number = MAX_BATCH): Batcher {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  }
  const queue: Job[] = [];

  const runBatch = () => {
    const jobs = queue.splice(0, maxBatch);
    // What is left goes to the next turn, after the I/O that arrived meanwhile.
    if (queue.length > 0) setImmediate(runBatch);
    for (const job of jobs) {
      try {
        job.resolve(job.work());
      } catch (error) {
        job.reject(error);
      }
    }
  };

  return <T>(work: () => T | PromiseLike<T>) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) setImmediate(runBatch);
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
}
