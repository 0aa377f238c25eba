// `tollgate serve` as N processes sharing one port (node:cluster: the primary
// accepts connections and hands them to the workers in turn), for the
// multi-core row of the bench. In a cluster one replica per core is the
// shipped way (docs/deploy.md); this shows what N processes give on one host.
//
//   node test/bench/cluster-serve.ts <workers> <serve arguments…>
import cluster from "node:cluster";
import { fileURLToPath } from "node:url";

const [count, ...serveArgs] = process.argv.slice(2);
const workers = Number(count);
if (!Number.isInteger(workers) || workers < 1) {
  throw new Error("usage: cluster-serve.ts <workers> <serve arguments…>");
}
cluster.setupPrimary({
  exec: fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url)),
  args: ["serve", ...serveArgs],
});
for (let i = 0; i < workers; i++) cluster.fork();
// A worker that dies ends the run: a bench with fewer workers than asked is wrong.
cluster.on("exit", (worker, code) => {
  process.stderr.write(`worker ${worker.process.pid} exited (${code})\n`);
  process.exit(1);
});
process.on("SIGTERM", () => {
  cluster.removeAllListeners("exit");
  for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
  setTimeout(() => process.exit(0), 2_000).unref();
});
