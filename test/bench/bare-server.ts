// The limit row of `npm run bench`: the least an HTTPS admission webhook on
// Node can do. It reads the body, JSON.parses it and admits with the request's
// uid, with nothing else: no routing, validation, policy, log or metrics.
// Tollgate's throughput and latency are reported as a fraction of this
// server's, measured in the same run with the same certificate, body and load
// generator, so the fraction says how much of the transport's capacity the
// webhook's own work uses, whatever else the machine is doing.
//
//   node --import tsx test/bench/bare-server.ts <port> <cert.pem> <key.pem>
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { secureOptionsOf } from "../../src/certificates/serving.js";

const [port, certFile, keyFile] = process.argv.slice(2);
if (!port || !certFile || !keyFile) {
  throw new Error("usage: bare-server.ts <port> <cert.pem> <key.pem>");
}

const server = createServer(
  // Tollgate's listener settings, so the handshake and the cipher are the same on both sides.
  secureOptionsOf({ cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") }),
  (request, response) => {
    if (request.method !== "POST") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let uid = "";
      try {
        const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          request?: { uid?: unknown };
        };
        if (typeof review.request?.uid === "string") uid = review.request.uid;
      } catch {
        response.writeHead(400).end();
        return;
      }
      const body = JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: { uid, allowed: true },
      });
      response.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(body);
    });
  },
);
// Keep-alive as long as Tollgate's (src/server/app.ts), so no connection is reopened.
server.keepAliveTimeout = 120_000;
server.listen(Number(port), "127.0.0.1", () => process.stderr.write(`listening on ${port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
