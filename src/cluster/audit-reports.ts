import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { AuditError, ReportConflictError } from "../audit/errors.js";
import {
  NAMESPACED_REPORT_NAME,
  type PolicyReportObject,
  REPORT_FORMATS,
  REPORT_LABEL_SELECTOR,
  REPORT_PLURALS,
  type ReportApi,
  type ReportFormat,
  type ReportRef,
} from "../audit/reports.js";
import type { ClusterSource } from "../audit/types.js";
import { httpStatusOf, kubeStatusOf } from "./api-errors.js";
import { toAuditError, withRetry } from "./audit-connect.js";
import { KubeAuditSource } from "./audit-source.js";

/**
 * PolicyReports and the ClusterPolicyReport (or, with the openreports.io
 * format, Reports and the ClusterReport) through CustomObjectsApi.
 */
export class KubeReportApi implements ReportApi {
  private readonly api: CustomObjectsApi;
  private readonly endpoint: string;

  constructor(
    kc: KubeConfig,
    readonly format: ReportFormat = REPORT_FORMATS.wgpolicyk8s,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.endpoint = kc.getCurrentCluster()?.server ?? "(unknown server)";
  }

  private fail(error: unknown, verb: string, ref: ReportRef): never {
    const status = httpStatusOf(error);
    const said = kubeStatusOf(error);
    // A missing CRD answers 404 with a plain "page not found", not a Status.
    if (status === 404 && said?.reason !== "NotFound") {
      throw new AuditError("not-found", this.format.crdHint);
    }
    // The report's namespace was deleted, or is being deleted, since it was listed.
    const namespaceGone =
      (status === 404 &&
        (said?.details?.kind === "namespaces" || /namespaces? "/.test(said?.message ?? ""))) ||
      (status === 403 && /being terminated/.test(said?.message ?? ""));
    if (ref.namespace && namespaceGone) {
      throw new AuditError("gone", `namespace "${ref.namespace}" is gone or being deleted`);
    }
    throw toAuditError(error, {
      verb,
      resource: `${REPORT_PLURALS[ref.kind]}.${this.format.group}`,
      namespace: ref.namespace,
      endpoint: this.endpoint,
    });
  }

  private target(ref: ReportRef) {
    return {
      group: this.format.group,
      version: this.format.version,
      plural: REPORT_PLURALS[ref.kind],
    };
  }

  async get(ref: ReportRef): Promise<PolicyReportObject | undefined> {
    try {
      const found: unknown = await withRetry(() =>
        ref.namespace
          ? this.api.getNamespacedCustomObject({
              ...this.target(ref),
              namespace: ref.namespace,
              name: ref.name,
            })
          : this.api.getClusterCustomObject({ ...this.target(ref), name: ref.name }),
      );
      return found as PolicyReportObject;
    } catch (error) {
      if (httpStatusOf(error) === 404 && kubeStatusOf(error)?.reason === "NotFound")
        return undefined;
      this.fail(error, "get", ref);
    }
  }

  async create(report: PolicyReportObject): Promise<void> {
    const ref = refOf(report);
    try {
      await withRetry(() =>
        ref.namespace
          ? this.api.createNamespacedCustomObject({
              ...this.target(ref),
              namespace: ref.namespace,
              body: report,
            })
          : this.api.createClusterCustomObject({ ...this.target(ref), body: report }),
      );
    } catch (error) {
      if (httpStatusOf(error) === 409) throw new ReportConflictError(`${ref.name} already exists`);
      this.fail(error, "create", ref);
    }
  }

  async replace(report: PolicyReportObject): Promise<void> {
    const ref = refOf(report);
    try {
      await withRetry(() =>
        ref.namespace
          ? this.api.replaceNamespacedCustomObject({
              ...this.target(ref),
              namespace: ref.namespace,
              name: ref.name,
              body: report,
            })
          : this.api.replaceClusterCustomObject({
              ...this.target(ref),
              name: ref.name,
              body: report,
            }),
      );
    } catch (error) {
      if (httpStatusOf(error) === 409) throw new ReportConflictError(`${ref.name} changed`);
      this.fail(error, "update", ref);
    }
  }

  async delete(ref: ReportRef): Promise<void> {
    try {
      await withRetry(() =>
        ref.namespace
          ? this.api.deleteNamespacedCustomObject({
              ...this.target(ref),
              namespace: ref.namespace,
              name: ref.name,
            })
          : this.api.deleteClusterCustomObject({ ...this.target(ref), name: ref.name }),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404 && kubeStatusOf(error)?.reason === "NotFound") return;
      this.fail(error, "delete", ref);
    }
  }

  async namespacesWithReports(): Promise<string[]> {
    const namespaces: string[] = [];
    let token: string | undefined;
    const ref: ReportRef = { kind: this.format.namespacedKind, name: NAMESPACED_REPORT_NAME };
    do {
      let page: { items?: PolicyReportObject[]; metadata?: { continue?: string } };
      try {
        page = await withRetry(() =>
          this.api.listClusterCustomObject({
            ...this.target(ref),
            labelSelector: REPORT_LABEL_SELECTOR,
            limit: 500,
            _continue: token,
          }),
        );
      } catch (error) {
        this.fail(error, "list", ref);
      }
      for (const item of page.items ?? []) {
        const { name, namespace } = item.metadata ?? {};
        if (name === NAMESPACED_REPORT_NAME && namespace) namespaces.push(namespace);
      }
      token = page.metadata?.continue || undefined;
    } while (token);
    return namespaces;
  }
}

function refOf(report: PolicyReportObject): ReportRef {
  return { kind: report.kind, namespace: report.metadata.namespace, name: report.metadata.name };
}

/**
 * Both audit adapters over one kubeconfig, ready for runAudit, writeReports
 * and startBackgroundAudit: `startBackgroundAudit({ ...kubeAuditAdapters(kc), ... })`.
 * Reports are written in `format` (wgpolicyk8s.io unless told otherwise).
 */
export function kubeAuditAdapters(
  kc: KubeConfig,
  format: ReportFormat = REPORT_FORMATS.wgpolicyk8s,
): { source: ClusterSource; reports: ReportApi } {
  return { source: new KubeAuditSource(kc), reports: new KubeReportApi(kc, format) };
}
