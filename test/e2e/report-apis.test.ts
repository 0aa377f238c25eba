// Both report APIs against the real API server: `tollgate audit
// --write-reports --report-api wgpolicyk8s|openreports` writes objects the
// server accepts under each API's CRDs (the OpenReports ones from the
// upstream module, support/report-crds.ts), and listing them by group,
// version and plural gives back Tollgate's results.
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NAMESPACED_REPORT_NAME,
  type PolicyReportObject,
  REPORT_FORMATS,
  REPORT_LABEL_SELECTOR,
  REPORT_PLURALS,
  type ReportApiName,
} from "../../src/audit/reports.js";
import { api, kubeConfig } from "./support/cluster.js";
import { cleanupNamespaces, createNamespace } from "./support/namespaces.js";
import { installReportCrds } from "./support/report-crds.js";
import { writeReports } from "./support/write-reports.js";

describe.each([["wgpolicyk8s"], ["openreports"]] as [ReportApiName][])(
  "tollgate audit --write-reports --report-api %s",
  (reportApi) => {
    const format = REPORT_FORMATS[reportApi];
    let namespace: string;

    beforeAll(async () => {
      const crds = await installReportCrds(reportApi);
      expect(crds.sort()).toEqual(
        [
          `${REPORT_PLURALS[format.namespacedKind]}.${format.group}`,
          `${REPORT_PLURALS[format.clusterKind]}.${format.group}`,
        ].sort(),
      );
      // "off": admission leaves the namespace alone, so a privileged
      // Deployment is stored for the audit to find.
      namespace = await createNamespace(`reports-${reportApi}`, "off");
      await api().apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: "web" },
          spec: {
            selector: { matchLabels: { app: "web" } },
            template: {
              metadata: { labels: { app: "web" } },
              spec: {
                containers: [
                  { name: "app", image: "nginx:1.27", securityContext: { privileged: true } },
                ],
              },
            },
          },
        },
      });
    });

    afterAll(cleanupNamespaces);

    it("writes a report the API server accepts, listed back with the findings", async () => {
      const run = await writeReports(namespace, reportApi);
      expect(run.code, run.io.err).toBe(1);
      expect(run.reports).toMatchObject({ created: 1, reports: 1 });

      const custom = kubeConfig().makeApiClient(CustomObjectsApi);
      const listed = (await custom.listNamespacedCustomObject({
        group: format.group,
        version: format.version,
        namespace,
        plural: REPORT_PLURALS[format.namespacedKind],
        labelSelector: REPORT_LABEL_SELECTOR,
      })) as { items: PolicyReportObject[] };
      expect(listed.items.map((r) => r.metadata.name)).toEqual([NAMESPACED_REPORT_NAME]);
      const report = listed.items[0] as PolicyReportObject;
      expect(report.apiVersion).toBe(format.apiVersion);
      expect(report.kind).toBe(format.namespacedKind);
      expect(report.summary.fail).toBeGreaterThan(0);
      const privileged = report.results.find((r) => r.policy === "privileged");
      expect(privileged).toMatchObject({
        result: "fail",
        severity: "critical",
        source: "tollgate",
        resources: [{ kind: "Deployment", name: "web", namespace }],
      });
      expect(privileged?.message).toContain('Deployment "web"');
      // The server kept every field Tollgate wrote (nothing pruned by the schema).
      expect(privileged?.properties).toMatchObject({ action: "deny", source: "policy" });
      if (reportApi === "openreports") expect(report.source).toBe("tollgate");

      // A second run changes nothing: the stored report is read back and compared.
      const again = await writeReports(namespace, reportApi);
      expect(again.reports).toMatchObject({ unchanged: 1, created: 0 });
    });
  },
);
