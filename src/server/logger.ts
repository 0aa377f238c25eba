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
const LINE_FORMAT = {
  base: { service: "tollgate" },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      ...LINE_FORMAT,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * A logger writing the same lines to the same destination as `logger`, at
 * its level, without redaction: for the decision line only, whose fields are
 * fixed, built from names, and never hold an object. Redaction copies every
 * object it logs, and on the one line written per request that copy was
 * about a tenth of a request's CPU (docs/benchmarks.md).
 */
export function unredactedTwin(logger: Logger): Logger {
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[
    pino.symbols.streamSym
  ];
  return pino({ level: logger.level, ...LINE_FORMAT }, destination);
}
