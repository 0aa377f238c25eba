import type { Logger } from "pino";
import {
  type ExceptionFeed,
  exceptionId,
  formatExceptionProblem,
  type LiveExceptions,
} from "../exceptions/index.js";
import type { TollgateMetrics } from "./metrics.js";

/** How long startup waits for the first list of exceptions before listening anyway. */
export const FIRST_SYNC_TIMEOUT_MS = 10_000;

/**
 * Feeds `live` from `feed` with the reload semantics of the PolicySet file:
 * each object is a reload that succeeds or fails, a bad object is logged and
 * ignored, and nothing here throws. Settles once the first list arrived, or
 * after `timeoutMs` (then exceptions apply as they arrive).
 */
export async function followExceptions(
  feed: ExceptionFeed,
  live: LiveExceptions,
  metrics: TollgateMetrics,
  logger: Logger,
  timeoutMs = FIRST_SYNC_TIMEOUT_MS,
): Promise<void> {
  const reload = (ok: boolean) =>
    metrics.reloads.inc({ source: "policyexception", result: ok ? "success" : "failure" });
  const started = feed.start({
    upsert(object) {
      const parsed = live.upsert(object);
      reload(parsed.ok);
      if (parsed.ok) {
        const { exception } = parsed;
        logger.info(
          {
            exception: exceptionId(exception),
            policies: exception.spec.policies,
            expires: exception.spec.expires,
          },
          "policy exception loaded",
        );
      } else {
        logger.error(
          { ...parsed.problem },
          `policy exception ignored, the others stay in force: ${formatExceptionProblem(parsed.problem)}`,
        );
      }
    },
    remove(object) {
      const id = live.remove(object);
      logger.info({ exception: id }, "policy exception deleted");
    },
    failed(error) {
      logger.warn(
        { error: error.message.slice(0, 300) },
        "watching policy exceptions failed; those already loaded stay in force, retrying",
      );
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    timer.unref();
  });
  const first = await Promise.race([
    started.then(
      () => "synced" as const,
      () => "synced" as const,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (first === "timeout") {
    logger.warn(
      { timeoutMs },
      "policy exceptions not listed yet; serving, they apply as they arrive",
    );
  } else {
    logger.info({ exceptions: live.counts() }, "policy exceptions listed");
  }
}
