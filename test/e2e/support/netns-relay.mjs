// Runs inside a network namespace of its own (`unshare --user
// --map-root-user --net`, loopback only) next to a program that must not
// listen on the host's interfaces:
//   node netns-relay.mjs API_PORT API_SOCK APP_PORT APP_SOCK -- COMMAND ARGS...
// - 127.0.0.1:API_PORT inside the namespace is relayed to the Unix socket
//   API_SOCK (the test relays that to the API server on the host's loopback),
//   so a kubeconfig naming https://127.0.0.1:API_PORT works unchanged;
// - the Unix socket APP_SOCK is relayed to 127.0.0.1:APP_PORT inside the
//   namespace, where COMMAND listens: the test talks to it through the socket.
// Unix sockets are files, shared across network namespaces; nothing else
// crosses. The relay exits with COMMAND, and SIGTERM reaches COMMAND.
import { spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";

const [apiPort, apiSock, appPort, appSock, dashes, command, ...args] = process.argv.slice(2);
if (dashes !== "--" || !command) {
  process.stderr.write("usage: netns-relay.mjs API_PORT API_SOCK APP_PORT APP_SOCK -- COMMAND\n");
  process.exit(2);
}

function pipe(client, connect) {
  const upstream = connect();
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
}

const api = createServer((c) => pipe(c, () => createConnection({ path: apiSock })));
const app = createServer((c) =>
  pipe(c, () => createConnection({ host: "127.0.0.1", port: Number(appPort) })),
);

api.listen(Number(apiPort), "127.0.0.1", () => {
  app.listen(appSock, () => {
    const child = spawn(command, args, { stdio: "inherit" });
    for (const signal of ["SIGTERM", "SIGINT"]) {
      process.on(signal, () => child.kill(signal));
    }
    child.on("exit", (code, signal) => {
      api.close();
      app.close();
      process.exit(code ?? (signal ? 128 : 1));
    });
  });
});
