import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { type Command, InvalidArgumentError } from "commander";
import Fastify, { type FastifyInstance } from "fastify";
import {
  AuditDocumentError,
  type AuditView,
  parseAuditDocument,
} from "../../dashboard/audit-document.js";
import { dashboardRoutes } from "../../dashboard/routes.js";
import { DashboardState } from "../../dashboard/state.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT, InputError, UsageError } from "../errors.js";
import { type AuditCommandDeps, namespaceList, runAuditCommand } from "./audit.js";

export const DEFAULT_DASHBOARD_PORT = 8700;

export interface DashboardOptions {
  /** A saved `tollgate audit --format json` document; without it, a live audit. */
  from?: string | undefined;
  kubeconfig?: string | undefined;
  namespaces?: string[] | undefined;
  config?: string | undefined;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningDashboard {
  url: string;
  state: DashboardState;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Runs `tollgate audit --format json` in-process and reads its document. */
async function liveAudit(options: DashboardOptions, deps: AuditCommandDeps): Promise<AuditView> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (text) => {
      out.push(text);
    },
    stderr: (text) => {
      err.push(text);
    },
    stdin: async function* () {},
    color: false,
    env: process.env,
  };
  const code = await runAuditCommand(
    {
      kubeconfig: options.kubeconfig,
      namespaces: options.namespaces,
      config: options.config,
      format: "json",
      writeReports: false,
      maxResults: 100,
      pageSize: 500,
      strict: false,
    },
    io,
    deps,
  );
  if (code === EXIT.error) {
    throw new Error(
      err
        .join("")
        .replace(/^tollgate: /, "")
        .trim() || "the audit failed",
    );
  }
  return parseAuditDocument(out.join(""), "the live audit");
}

async function fileAudit(file: string): Promise<AuditView> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(file, `cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    return parseAuditDocument(text, file);
  } catch (error) {
    if (error instanceof AuditDocumentError) throw new InputError(file, error.problem);
    throw error;
  }
}

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/**
 * Host headers the dashboard answers: its own host, localhost and IP
 * literals. Any other name would be a DNS-rebinding page reaching a loopback
 * server; when it listens on every address, every name is allowed.
 */
export function hostAllower(listenHost: string): ((host: string) => boolean) | undefined {
  if (WILDCARDS.has(listenHost)) return undefined;
  return (header) => {
    const name = header.startsWith("[")
      ? header.slice(1, header.indexOf("]"))
      : header.replace(/:\d+$/, "");
    return name === listenHost || name === "localhost" || isIP(name) !== 0;
  };
}

/**
 * Starts the dashboard: loads the first audit (a file must read, a live
 * audit may still fail and is then shown as an error with a refresh button),
 * and listens over plain HTTP.
 */
export async function startDashboard(
  options: DashboardOptions,
  deps: AuditCommandDeps = {},
): Promise<RunningDashboard> {
  const { from } = options;
  const state = new DashboardState(
    from
      ? { mode: "file", label: from, load: () => fileAudit(from) }
      : {
          mode: "live",
          label: options.kubeconfig ?? "the current kubeconfig context",
          load: () => liveAudit(options, deps),
        },
  );
  if (from) state.publish(await fileAudit(from));
  else void state.refresh();
  const app = Fastify({ logger: false, bodyLimit: 1024 });
  await app.register(dashboardRoutes, { state, allowHost: hostAllower(options.host) });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES") {
      throw new UsageError(
        `cannot listen on ${options.host}:${options.port} (${code}); choose another --host or --port`,
      );
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}/`, state, app, close: () => app.close() };
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535");
  }
  return parsed;
}

interface DashboardFlags {
  from?: string;
  kubeconfig?: string;
  namespace?: string[];
  config?: string;
  host: string;
  port: number;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function register(program: Command): void {
  program
    .command("dashboard")
    .description(
      "serve a local web page of the checklist score and findings, from a live audit or a saved one",
    )
    .option("--from <file>", "show a saved `tollgate audit --format json` document instead")
    .option(
      "--kubeconfig <file>",
      "kubeconfig for the live audit (default: KUBECONFIG, ~/.kube/config, in-cluster)",
    )
    .option(
      "-n, --namespace <names>",
      "live audit of these namespaces only; repeat it or give a comma list",
      namespaceList,
    )
    .option("-c, --config <file>", "PolicySet file for the live audit")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free port)", port, DEFAULT_DASHBOARD_PORT)
    .addHelpText("after", "\nStops on Ctrl-C. See docs/dashboard.md.")
    .action(async (flags: DashboardFlags, command: Command) => {
      const io = ioOf(command);
      const dashboard = await startDashboard({
        from: flags.from,
        kubeconfig: flags.kubeconfig,
        namespaces: flags.namespace,
        config: flags.config,
        host: flags.host,
        port: flags.port,
      });
      io.stderr(`Tollgate dashboard at ${dashboard.url} (Ctrl-C stops it)\n`);
      await waitForSignal();
      await dashboard.close();
      setExitCode(command, EXIT.ok);
    });
}
