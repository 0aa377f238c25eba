// One `tollgate audit --write-reports` of a namespace through the CLI, as the
// report-API and Policy Reporter suites both run it against the control plane.
import type { ReportApiName } from "../../../src/audit/reports.js";
import { register } from "../../../src/cli/commands/audit.js";
import { runCli } from "../../../src/cli/program.js";
import { stringIO } from "../../support/cli-io.js";
import { cluster } from "./cluster.js";

export interface AuditRun {
  code: number;
  io: ReturnType<typeof stringIO>;
  /** The `reports` part of the JSON report: what was created, updated or left. */
  reports: Record<string, number>;
}

export async function writeReports(namespace: string, reportApi: ReportApiName): Promise<AuditRun> {
  const io = stringIO();
  const args = ["audit", "--kubeconfig", cluster().kubeconfig, "-n", namespace];
  args.push("--write-reports", "--report-api", reportApi, "-o", "json");
  const code = await runCli(args, io, [register]);
  const reports = code === 2 ? {} : JSON.parse(io.out).reports;
  return { code, io, reports };
}
