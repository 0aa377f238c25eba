// The well-behaved half of `npm run flood`: AdmissionReviews sent as the API
// server sends them, each answer checked for its uid. Two workers reuse
// keep-alive connections (as the API server does); a third opens a new
// connection for every request, which is what the API server must do after
// losing one, and the harder case under a flood.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { performance } from "node:perf_hooks";

const REVIEW = JSON.parse(
  readFileSync(new URL("../../../examples/admission-review.json", import.meta.url), "utf8"),
) as { request: { uid: string } };

/** The API server gives up after a webhook's timeoutSeconds; deploy/ uses 3 to 5 s, at most 30. */
export const ADMISSION_TIMEOUT_MS = 10_000;
/** Pause between one worker's requests: about 40 a second each, a busy cluster's share. */
const PAUSE_MS = 25;
/**
 * Loopback addresses the admission client connects from (the attackers use
 * 127.0.0.1), so the server's own account (flood/lifetimes.ts) can tell what
 * became of the client's connections among the flood's.
 */
export const ADMISSION_ADDRESSES = { fresh: "127.0.0.2", kept: "127.0.0.3" } as const;

export interface AdmissionSample {
  /** performance.now() when sent. */
  at: number;
  ms: number;
  ok: boolean;
  /** Why it failed. */
  error?: string;
  fresh: boolean;
}

export interface AdmissionClient {
  samples: AdmissionSample[];
  stop(): Promise<void>;
}

function send(agent: Agent, url: URL, ca: string, uid: string): Promise<string | undefined> {
  const body = JSON.stringify({ ...REVIEW, request: { ...REVIEW.request, uid } });
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/validate",
        method: "POST",
        agent,
        ca,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: ADMISSION_TIMEOUT_MS,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => {
          if (response.statusCode !== 200) return resolve(`HTTP ${response.statusCode}`);
          try {
            const answer = JSON.parse(text) as { response?: { uid?: string } };
            resolve(answer.response?.uid === uid ? undefined : "answer without the request's uid");
          } catch {
            resolve("answer is not JSON");
          }
        });
        response.on("error", (error) => resolve(error.message));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer in ${ADMISSION_TIMEOUT_MS} ms`)));
    req.on("error", (error) => resolve(error.message));
    req.end(body);
  });
}

/** Starts the workers; `stop` waits for the requests in flight. */
export function startAdmissions(baseUrl: string, ca: string): AdmissionClient {
  const url = new URL(baseUrl);
  const samples: AdmissionSample[] = [];
  let running = true;
  let sequence = 0;
  const worker = async (fresh: boolean) => {
    const agent = new Agent({
      keepAlive: !fresh,
      maxSockets: 1,
      localAddress: fresh ? ADMISSION_ADDRESSES.fresh : ADMISSION_ADDRESSES.kept,
    });
    while (running) {
      const at = performance.now();
      const error = await send(agent, url, ca, `flood-${sequence++}`);
      samples.push({ at, ms: performance.now() - at, ok: error === undefined, error, fresh });
      await new Promise((done) => setTimeout(done, PAUSE_MS));
    }
    agent.destroy();
  };
  const workers = [worker(false), worker(false), worker(true)];
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}
