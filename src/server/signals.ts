import type { Logger } from "pino";
import type { Shutdown } from "./shutdown.js";

/**
 * Drains on SIGTERM or SIGINT; a second signal while draining exits at
 * once, for an operator who will not wait. Returns what removes the handlers.
 */
export function handleSignals(lifecycle: Shutdown, logger: Logger): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const handler = () => {
      if (lifecycle.started) {
        logger.warn({ signal }, "second signal while draining; exiting now");
        process.exit(1);
      }
      void lifecycle.shutdown(signal);
    };
    handlers.push([signal, handler]);
    process.on(signal, handler);
  }
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
