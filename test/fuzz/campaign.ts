// One fuzz run: mutants sent to a webhook over HTTPS on loopback, a few at a
// time on keep-alive connections, each answer checked against the oracle.
// Bounded by a count and a deadline, whichever comes first.
import { Agent, request } from "node:https";
import { performance } from "node:perf_hooks";
import { answerProblem, expectationOf } from "./contract.js";
import { corpusObjects } from "./corpus.js";
import { type Mutant, mutant } from "./mutate.js";
import { seededRandom } from "./random.js";

export interface CampaignOptions {
  /** https://127.0.0.1:<port> (loopback only). */
  url: string;
  /** The CA that signed the webhook's certificate. */
  ca: string;
  seed: number;
  count: number;
  /** Stop sending after this long, even if fewer than `count` were sent. */
  deadlineMs: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** The server's --body-limit (bigger bodies are owed a refusal only). */
  bodyLimit: number;
  /** Called now and then with the number answered so far. */
  progress?: (done: number) => void;
}

export interface Failure {
  index: number;
  path: string;
  bytes: number;
  status: number | string;
  problem: string;
  steps: string[];
}

export interface CampaignFigures {
  seed: number;
  sent: number;
  /** Requests the oracle says must be answered with an AdmissionReview, and how many were. */
  wellFormed: number;
  answered: number;
  /** Everything else, and how many got a refusal below 500. */
  malformed: number;
  refused: number;
  /** Answers by HTTP status ("network" for a connection error). */
  statuses: Record<string, number>;
  bodyBytes: { total: number; max: number };
  seconds: number;
  stoppedByDeadline: boolean;
  failures: Failure[];
}

/** At most this many failures are kept with their steps; all are counted in statuses. */
const KEPT_FAILURES = 20;

interface Reply {
  status: number | "network";
  body: string;
}

/**
 * A connection error with what tells whose doing it was: its code, whether
 * the request went out on a kept-alive connection, how long after sending.
 */
function networkReply(error: NodeJS.ErrnoException, reused: boolean, sentAt: number): Reply {
  const ms = performance.now() - sentAt;
  return {
    status: "network",
    body: `${error.message} (${error.code ?? "no code"}, ${reused ? "kept-alive" : "new"} connection, ${ms.toFixed(0)} ms after sending, at ${new Date().toISOString()})`,
  };
}

function send(agent: Agent, base: URL, m: Mutant): Promise<Reply> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { "content-length": m.body.length };
    if (m.contentType !== undefined) headers["content-type"] = m.contentType;
    const req = request(
      { host: base.hostname, port: base.port, path: m.path, method: "POST", agent, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", (error) => resolve(networkReply(error, req.reusedSocket, sentAt)));
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error("no answer in 60 s")));
    req.on("error", (error) => resolve(networkReply(error, req.reusedSocket, sentAt)));
    req.end(m.body);
  });
}

/**
 * Whether a refusal is acceptable: a 4xx, a 200 that is still an
 * AdmissionReview, or, for a body over the limit, a connection the server
 * closed while the client was still sending what it would not read.
 */
function refusalProblem(reply: Reply, oversize: boolean): string | undefined {
  if (typeof reply.status === "number" && reply.status >= 400 && reply.status < 500)
    return undefined;
  if (reply.status === "network" && oversize) return undefined;
  if (reply.status === 200 && /"kind":"AdmissionReview"/.test(reply.body)) return undefined;
  return `malformed request answered ${reply.status}: ${reply.body.slice(0, 200)}`;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignFigures> {
  const base = new URL(options.url);
  if (!["127.0.0.1", "[::1]", "localhost"].includes(base.hostname)) {
    throw new Error(`fuzz targets loopback only, not ${base.hostname}`);
  }
  const agent = new Agent({
    ca: options.ca,
    keepAlive: true,
    maxSockets: options.concurrency ?? 8,
  });
  const random = seededRandom(options.seed);
  const corpus = corpusObjects();
  const figures: CampaignFigures = {
    seed: options.seed,
    sent: 0,
    wellFormed: 0,
    answered: 0,
    malformed: 0,
    refused: 0,
    statuses: {},
    bodyBytes: { total: 0, max: 0 },
    seconds: 0,
    stoppedByDeadline: false,
    failures: [],
  };
  const started = performance.now();
  const deadline = started + options.deadlineMs;
  let next = 0;

  const fail = (index: number, m: Mutant, status: number | string, problem: string) => {
    if (figures.failures.length < KEPT_FAILURES) {
      figures.failures.push({
        index,
        path: m.path,
        bytes: m.body.length,
        status,
        problem,
        steps: m.steps,
      });
    }
  };

  // Mutants are made in order from one random source, so a seed is one run
  // whatever the concurrency; only sending overlaps.
  const worker = async () => {
    while (next < options.count) {
      if (performance.now() > deadline) {
        figures.stoppedByDeadline = true;
        return;
      }
      const index = next++;
      const m = mutant(corpus, index, random);
      const expected = expectationOf(m.path, m.contentType, m.body, options.bodyLimit);
      figures.sent++;
      figures.bodyBytes.total += m.body.length;
      figures.bodyBytes.max = Math.max(figures.bodyBytes.max, m.body.length);
      const reply = await send(agent, base, m);
      figures.statuses[reply.status] = (figures.statuses[reply.status] ?? 0) + 1;
      if (expected) {
        figures.wellFormed++;
        const problem =
          reply.status === 200
            ? answerProblem(reply.body, expected, () => {
                // A fresh copy from the text (JSON.parse does not recurse, a clone would).
                const parsed = JSON.parse(m.body.toString("utf8")) as {
                  request: { object?: unknown };
                };
                return parsed.request.object;
              })
            : `well-formed request answered ${reply.status}: ${reply.body.slice(0, 200)}`;
        if (problem) fail(index, m, reply.status, problem);
        else figures.answered++;
      } else {
        figures.malformed++;
        const problem = refusalProblem(reply, m.body.length > options.bodyLimit);
        if (problem) fail(index, m, reply.status, problem);
        else figures.refused++;
      }
      if (figures.sent % 1_000 === 0) options.progress?.(figures.sent);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  } finally {
    agent.destroy();
  }
  figures.seconds = (performance.now() - started) / 1000;
  return figures;
}

/** Whether the run holds: everything sent, every request owed an answer answered, no 5xx or network error. */
export function campaignHolds(figures: CampaignFigures, count: number): boolean {
  return (
    figures.sent === count &&
    figures.answered === figures.wellFormed &&
    figures.refused === figures.malformed
  );
}

export function formatFigures(f: CampaignFigures): string {
  const statuses = Object.entries(f.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${n}`)
    .join(", ");
  const lines = [
    `seed ${f.seed}: ${f.sent} AdmissionReviews sent in ${f.seconds.toFixed(1)} s${f.stoppedByDeadline ? " (stopped at the time bound)" : ""}`,
    `  well-formed ${f.wellFormed}, answered with a valid AdmissionReview echoing the uid ${f.answered}`,
    `  malformed ${f.malformed}, refused without a server error ${f.refused}`,
    `  statuses: ${statuses}`,
    `  bodies: ${(f.bodyBytes.total / 2 ** 20).toFixed(1)} MiB in all, largest ${(f.bodyBytes.max / 2 ** 20).toFixed(2)} MiB`,
  ];
  for (const failure of f.failures) {
    lines.push(
      `  FAILED #${failure.index} POST ${failure.path} (${failure.bytes} bytes) -> ${failure.status}: ${failure.problem}`,
      `    steps: ${failure.steps.join("; ")}`,
    );
  }
  return lines.join("\n");
}
