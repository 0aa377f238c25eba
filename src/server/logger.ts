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

/** What every line carries after its level and time. */
const LINE_BASE = { service: "tollgate" };

/** JSON lines with ISO times and level names, as log collectors expect. */
const LINE_FORMAT = {
  base: LINE_BASE,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/**
 * Standard output collects lines until this many bytes are waiting, and
 * writes them in one call. Under load a write(2) per line cost about 8 % of
 * a request's CPU (docs/benchmarks.md); far below a pipe's 64 KiB, so a
 * write to the container runtime's pipe does not block on its size alone.
 */
export const LOG_BUFFER_BYTES = 8 * 1024;
/** Lines never wait longer than this for the buffer to fill. */
export const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * Standard output, buffered as above. Writes stay synchronous, so at most
 * LOG_BUFFER_BYTES are ever held (an asynchronous stream would queue without
 * bound behind a stalled reader); whatever is held is written when the
 * process exits, however it exits short of a kill, so a crash's last lines
 * are kept.
 */
function bufferedStandardOutput(): DestinationStream {
  const stream = pino.destination({
    dest: 1,
    sync: true,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
  });
  process.once("exit", () => {
    try {
      stream.flushSync();
    } catch {
      // Standard output is gone (EPIPE); there is nowhere left to write.
    }
  });
  return stream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      ...LINE_FORMAT,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination ?? bufferedStandardOutput(),
  );
}

/** The one line the webhook writes per request; undefined fields are left out. */
export type DecisionLine = (fields: Record<string, unknown>) => void;

/**
 * Writes `msg` lines at info with `logger`'s format, to its destination and
 * at its level, without pino: for the decision line only, whose fields are
 * fixed, built from names, and never hold an object, so they need no
 * redaction. One JSON.stringify of the fields costs half of what pino's
 * serialiser did on the line written per request, which was 13 % of a
 * request's CPU in the server (docs/benchmarks.md). test/server/logging.test.ts
 * checks the line against pino's for the same fields.
 */
export function decisionLine(logger: Logger, msg: string): DecisionLine {
  const destination = (logger as unknown as Record<symbol, DestinationStream | undefined>)[
    pino.symbols.streamSym
  ];
  if (!destination) throw new Error("decisionLine needs a pino logger");
  const base = JSON.stringify(LINE_BASE).slice(1, -1);
  const end = `,"msg":${JSON.stringify(msg)}}\n`;
  return (fields) => {
    if (!logger.isLevelEnabled("info")) return;
    const body = JSON.stringify(fields).slice(1, -1);
    const time = LINE_FORMAT.timestamp();
    destination.write(`{"level":"info"${time},${base}${body ? `,${body}` : ""}${end}`);
  };
}
