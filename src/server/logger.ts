import { type DestinationStream, type LevelWithSilent, type Logger, pino } from "pino";

/**
 * Fields never written to the log, whatever a call site passes by mistake:
 * credentials and admitted objects (which can be Secrets). The decision log
 * names objects and never includes them; this list is the second line of defence.
 */
export const REDACTED_PATHS = [
  "authorization",
  "headers.authorization",
  "headers.cookie",
  "req.headers.authorization",
  "req.headers.cookie",
  "token",
  "*.token",
  "password",
  "*.password",
  "body",
  "*.body",
  "object",
  "*.object",
  "oldObject",
  "*.oldObject",
  "data",
  "*.data",
  "stringData",
  "*.stringData",
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Defaults to standard output. */
  destination?: DestinationStream;
}

/** JSON lines with ISO times and level names, as log collectors expect. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "tollgate" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
