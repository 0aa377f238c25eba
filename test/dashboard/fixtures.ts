// Audit JSON documents made by the real audit (`tollgate audit --format json`
// over an in-memory cluster), for the dashboard's tests and benchmark.

import { runAuditCommand } from "../../src/cli/commands/audit.js";
import type { KubeObject } from "../../src/engine/index.js";
import { deployment, FakeReportApi, FakeSource, namespace } from "../audit/fakes.js";
import { stringIO } from "../support/cli-io.js";

/** A name that would run script if the page ever parsed it as HTML. */
export const HOSTILE = "<img src=x onerror=alert(1)>";

/** Three namespaces with different findings, one holding a Deployment with a hostile name. */
export function sampleCluster(): KubeObject[] {
  return [
    namespace("shop", { team: "shop" }),
    deployment("shop", "web", { privileged: true, replicas: 2 }),
    deployment("shop", "worker", { image: "mcr.microsoft.com/app:1.0", replicas: 2 }),
    namespace("payments", { team: "payments" }),
    deployment("payments", HOSTILE, { labels: { app: HOSTILE } }),
    namespace("default"),
    deployment("default", "stray", {}),
  ];
}

/** Runs the audit command on these objects and returns its JSON document as text. */
export async function auditJson(objects: KubeObject[]): Promise<string> {
  const io = stringIO();
  await runAuditCommand(
    {
      format: "json",
      writeReports: false,
      maxResults: 100,
      pageSize: 500,
      strict: false,
    },
    io,
    { connect: () => ({ source: new FakeSource(objects), reports: new FakeReportApi() }) },
  );
  if (!io.out) throw new Error(`the audit wrote nothing: ${io.err}`);
  return io.out;
}

/** Connects a live dashboard's audit to this in-memory cluster. */
export function fakeCluster(objects: KubeObject[]) {
  return { connect: () => ({ source: new FakeSource(objects), reports: new FakeReportApi() }) };
}
