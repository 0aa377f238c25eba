import { isIP } from "node:net";
import { hostname } from "node:os";
import { relative } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { LevelWithSilent, Logger } from "pino";
import { parseInterval, startBackgroundAudit } from "../../audit/background.js";
import {
  DEFAULT_REPORT_API,
  REPORT_APIS,
  REPORT_FORMATS,
  type ReportApiName,
} from "../../audit/reports.js";
import { TlsMaterialError } from "../../certificates/files.js";
import { inClusterNamespace, startManagedCertificates } from "../../certificates/managed.js";
import type { TlsSource } from "../../certificates/source.js";
import { AUDIT_LEASE_NAME, whileLeading } from "../../cluster/leader-election.js";
import { loadClusterAdapters } from "../../cluster/load.js";
import { feedDashboard } from "../../dashboard/background.js";
import { DashboardState } from "../../dashboard/state.js";
import type { ExceptionFeed } from "../../exceptions/index.js";
import { DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT_MS } from "../../server/app.js";
import { createLogger } from "../../server/logger.js";
import {
  type Companion,
  DEFAULT_DRAIN_DELAY_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_STATE_DIR,
  type RunningServer,
  startServer,
} from "../../server/main.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT, InputError, UsageError } from "../errors.js";

interface ServeFlags {
  config?: string;
  host: string;
  port: number;
  cert?: string;
  key?: string;
  stateDir: string;
  bodyLimit: number;
  drainDelay: number;
  requestTimeout: number;
  maxConnections?: number;
  metricsPort?: number;
  logLevel: LevelWithSilent;
  cluster: boolean;
  manageCerts?: boolean;
  namespace?: string;
  service: string;
  certHost: string[];
  backgroundAudit?: number;
  reportApi: ReportApiName;
  watchExceptions?: boolean;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return parsed;
  };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  ki: 1024,
  kib: 1024,
  mi: 1048576,
  mib: 1048576,
};

/** Bytes, optionally with a Ki/Mi (or KiB/MiB) suffix: `4194304`, `4Mi`. */
export function parseSize(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? "?"];
  if (!match || unit === undefined) {
    throw new InvalidArgumentError("must be a number of bytes, optionally with Ki or Mi");
  }
  const bytes = Number(match[1]) * unit;
  if (bytes < 65_536 || bytes > 64 * 1048576) {
    throw new InvalidArgumentError("must be between 64Ki and 64Mi");
  }
  return bytes;
}

function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function shown(file: string): string {
  const local = relative(process.cwd(), file);
  return local && !local.startsWith("..") ? local : file;
}

/** What someone at a terminal needs: where it listens, which CA to trust, a request to try. */
function printBanner(server: RunningServer, io: CliIO): void {
  const policies = server.policies();
  const { caFile, generated } = server.certificate;
  const lines = [
    `tollgate: serving ${server.url} with ${policies.set.policies.length} policies (${policies.source}); default mode ${policies.settings.defaultMode}`,
  ];
  if (caFile) {
    lines.push(
      `tollgate: development CA ${generated ? "written to" : "reused from"} ${shown(caFile)} (trust it to call the webhook)`,
    );
  }
  const cacert = caFile ? quote(shown(caFile)) : "<your CA file>";
  lines.push(
    "tollgate: try it:",
    `  curl --cacert ${cacert} -H 'Content-Type: application/json' --data @examples/admission-review.json ${server.url}/validate`,
  );
  if (server.metricsUrl) lines.push(`tollgate: metrics at ${server.metricsUrl}`);
  io.stderr(`${lines.join("\n")}\n`);
}

function explainStartupError(error: unknown, flags: ServeFlags): never {
  if (error instanceof TlsMaterialError) throw new InputError(error.file, error.problem);
  // Node names the port that failed: the webhook's or the metrics port.
  const { code, port = flags.port } = error as NodeJS.ErrnoException & { port?: number };
  if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
    const reason = {
      EADDRINUSE: "address already in use",
      EACCES: "permission denied",
      EADDRNOTAVAIL: "address not available on this machine",
    }[code];
    throw new InputError(`${flags.host}:${port}`, `cannot listen: ${reason}`);
  }
  throw error;
}

async function managedCertificates(flags: ServeFlags, logger: Logger): Promise<TlsSource> {
  const namespace = flags.namespace ?? inClusterNamespace();
  if (!namespace) {
    throw new UsageError(
      "--manage-certs needs Tollgate's namespace: pass --namespace or set POD_NAMESPACE",
    );
  }
  try {
    const cluster = await loadClusterAdapters();
    return await startManagedCertificates({
      namespace,
      service: flags.service,
      extraHosts: flags.certHost,
      clients: cluster.inClusterCertificateClients(),
      logger,
    });
  } catch (error) {
    throw new InputError("--manage-certs", `no serving certificate: ${(error as Error).message}`);
  }
}

/**
 * Runs `tollgate audit --write-reports` on a schedule inside the webhook,
 * showing each run on the read-only dashboard at /dashboard/.
 */
async function backgroundAudit(
  intervalMs: number,
  reportApi: ReportApiName,
  dashboard: DashboardState,
  namespace: string | undefined,
): Promise<Companion> {
  const cluster = await loadClusterAdapters();
  const kc = cluster.auditKubeConfig();
  const adapters = cluster.kubeAuditAdapters(kc, REPORT_FORMATS[reportApi]);
  const feed = feedDashboard(dashboard);
  const leaseNamespace = namespace ?? inClusterNamespace();
  return ({ policies, registry, logger }) => {
    const start = (initialDelayMs?: number) =>
      startBackgroundAudit({
        ...adapters,
        policies,
        intervalMs,
        registry,
        logger,
        initialDelayMs,
        onFinding: feed.onFinding,
        onRunFinished: feed.onRunFinished,
      });
    if (!leaseNamespace) {
      logger.warn(
        {},
        "background audit without leader election: no namespace for its Lease (pass --namespace or set POD_NAMESPACE); every replica audits",
      );
      return start();
    }
    // Of several replicas, only the holder of the Lease audits and writes
    // PolicyReports; a new holder audits at once rather than an interval later.
    return whileLeading(() => start(LEADER_FIRST_RUN_DELAY_MS), {
      store: cluster.kubeLeaseStore(kc, leaseNamespace, AUDIT_LEASE_NAME),
      identity: hostname(),
      logger,
    });
  };
}

/** How soon a replica that has just become the audit's leader runs its first audit. */
const LEADER_FIRST_RUN_DELAY_MS = 2_000;

/** The cluster's PolicyExceptions, listed and watched (docs/exceptions.md). */
async function exceptionFeed(): Promise<ExceptionFeed> {
  const cluster = await loadClusterAdapters();
  try {
    return cluster.clusterExceptionFeed(cluster.loadKubeConfig());
  } catch (error) {
    throw new InputError("--watch-exceptions", (error as Error).message);
  }
}

/** A DNS name (RFC 1123, lower case) or an IP address, as a certificate names it. */
function certHost(value: string): string {
  const dnsName =
    /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
  if (isIP(value) === 0 && !dnsName.test(value)) {
    throw new InvalidArgumentError(
      `must be a lower-case DNS name or an IP address, got '${value}'`,
    );
  }
  return value;
}

function interval(value: string): number {
  try {
    return parseInterval(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("run the admission webhook over HTTPS (POST /validate, POST /mutate)")
    .option("-c, --config <file>", "PolicySet file; reloaded when it changes")
    .option("--host <host>", "address to listen on", DEFAULT_HOST)
    .option("-p, --port <port>", "port to listen on", integer("--port", 0, 65535), DEFAULT_PORT)
    .option("--cert <file>", "serving certificate (PEM); reloaded when it changes")
    .option("--key <file>", "private key of --cert (PEM); reloaded when it changes")
    .option(
      "--state-dir <dir>",
      "where a development CA and certificate are kept when --cert is not given",
      DEFAULT_STATE_DIR,
    )
    .option(
      "--body-limit <bytes>",
      "largest AdmissionReview accepted (bytes, or with Ki/Mi); larger ones get 413",
      parseSize,
      DEFAULT_BODY_LIMIT,
    )
    .option(
      "--drain-delay <ms>",
      "after SIGTERM, how long /readyz fails before the listener closes",
      integer("--drain-delay", 0, 600_000),
      DEFAULT_DRAIN_DELAY_MS,
    )
    .option(
      "--request-timeout <ms>",
      "longest time to receive and answer one request",
      integer("--request-timeout", 100, 600_000),
      DEFAULT_REQUEST_TIMEOUT_MS,
    )
    .option(
      "--max-connections <n>",
      "open connections at most; at the cap the oldest unused or idle one is closed (default: sized to the memory limit)",
      integer("--max-connections", 1, 1_000_000),
    )
    .option(
      "--metrics-port <port>",
      "serve GET /metrics over plain HTTP on this port instead of the webhook's HTTPS port, so a NetworkPolicy can limit who scrapes",
      integer("--metrics-port", 0, 65535),
    )
    .addOption(
      new Option("--log-level <level>", "least severe log level written")
        .choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
        .default("info"),
    )
    .option(
      "--no-cluster",
      "never read namespace labels from a cluster: without a mode in the path or query, every namespace uses defaultMode",
    )
    .option(
      "--manage-certs",
      "in a cluster: create, share and renew the serving certificate in a Secret and keep the webhooks' caBundle current",
    )
    .option(
      "--namespace <namespace>",
      "Tollgate's namespace, for --manage-certs and the background audit's Lease (default: POD_NAMESPACE, else the service account's)",
    )
    .option("--service <name>", "with --manage-certs: the Service the API server calls", "tollgate")
    .option(
      "--cert-host <host>",
      "with --manage-certs: one more DNS name or IP address the serving certificate names, for webhooks called by URL instead of the Service (repeatable)",
      (value: string, previous: string[]) => [...previous, certHost(value)],
      [] as string[],
    )
    .option(
      "--background-audit <interval>",
      "audit the cluster every interval (30s, 10m, 1h), write PolicyReports and serve the read-only dashboard at /dashboard/; off by default",
      interval,
    )
    .addOption(
      new Option(
        "--report-api <api>",
        "with --background-audit: the report API written, wgpolicyk8s (PolicyReport, wgpolicyk8s.io/v1alpha2) or openreports (Report, openreports.io/v1alpha1)",
      )
        .choices(REPORT_APIS)
        .default(DEFAULT_REPORT_API),
    )
    .option(
      "--watch-exceptions",
      "list and watch PolicyException objects (tollgate.dev/v1alpha1) in the cluster and honour them; a bad one is logged and ignored",
    )
    .action(async (flags: ServeFlags, command: Command) => {
      const io = ioOf(command);
      if (Boolean(flags.cert) !== Boolean(flags.key)) {
        throw new UsageError("--cert and --key go together: give both or neither");
      }
      if (flags.manageCerts && flags.cert) {
        throw new UsageError("--manage-certs and --cert/--key exclude each other");
      }
      if (
        flags.metricsPort !== undefined &&
        flags.metricsPort !== 0 &&
        flags.metricsPort === flags.port
      ) {
        throw new UsageError("--metrics-port must differ from --port");
      }
      if (!flags.manageCerts && flags.certHost.length > 0) {
        throw new UsageError("--cert-host only applies with --manage-certs");
      }
      if (!flags.backgroundAudit && command.getOptionValueSource("reportApi") === "cli") {
        throw new UsageError("--report-api only applies with --background-audit");
      }
      const logger = createLogger({ level: flags.logLevel });
      let server: RunningServer;
      try {
        const tls = flags.manageCerts ? await managedCertificates(flags, logger) : undefined;
        const dashboard = flags.backgroundAudit
          ? new DashboardState({ mode: "in-cluster", label: "the background audit" })
          : undefined;
        const companions =
          flags.backgroundAudit && dashboard
            ? [
                await backgroundAudit(
                  flags.backgroundAudit,
                  flags.reportApi,
                  dashboard,
                  flags.namespace,
                ),
              ]
            : [];
        const exceptions = flags.watchExceptions ? await exceptionFeed() : undefined;
        server = await startServer({
          tls,
          exceptions,
          config: flags.config,
          host: flags.host,
          port: flags.port,
          certFile: flags.cert,
          keyFile: flags.key,
          stateDir: flags.stateDir,
          bodyLimit: flags.bodyLimit,
          drainDelayMs: flags.drainDelay,
          requestTimeoutMs: flags.requestTimeout,
          maxConnections: flags.maxConnections,
          metricsPort: flags.metricsPort,
          logger,
          namespaces: flags.cluster ? "cluster" : "none",
          companions,
          dashboard,
        });
      } catch (error) {
        explainStartupError(error, flags);
      }
      printBanner(server, io);
      await server.closed;
      setExitCode(command, EXIT.ok);
    });
}
