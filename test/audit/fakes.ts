// In-memory fakes of the audit's adapter interfaces, and object builders.

import { ReportConflictError } from "../../src/audit/errors.js";
import { AUDIT_KINDS, KIND_INFO } from "../../src/audit/kinds.js";
import {
  type PolicyReportObject,
  REPORT_FORMATS,
  REPORT_LABELS,
  type ReportApi,
  type ReportFormat,
  type ReportRef,
} from "../../src/audit/reports.js";
import type { ClusterSource, ListPage, ServerVersion } from "../../src/audit/types.js";
import type { KubeObject } from "../../src/engine/index.js";
import { type ResolvedPolicySet, resolvePolicySet } from "../../src/policyset/index.js";
import { shippedPolicies } from "../support/policies.js";

export class FakeSource implements ClusterSource {
  readonly endpoint = "https://fake.invalid:6443";
  readonly calls: { kind: string; namespace: string | undefined; limit: number }[] = [];
  delayMs = 0;

  constructor(
    readonly objects: KubeObject[],
    /** null: the version cannot be read. */
    readonly version: ServerVersion | null = { major: "1", minor: "33", gitVersion: "v1.33.2" },
  ) {}

  listableKinds(): readonly string[] {
    return AUDIT_KINDS.map((k) => k.kind);
  }

  async *list(
    kind: string,
    namespace: string | undefined,
    pageSize: number,
  ): AsyncIterable<ListPage> {
    const namespaced = KIND_INFO.get(kind)?.namespaced ?? true;
    const matching = this.objects.filter(
      (o) =>
        o.kind === kind &&
        (!namespaced || namespace === undefined || o.metadata?.namespace === namespace),
    );
    for (let start = 0; start === 0 || start < matching.length; start += pageSize) {
      this.calls.push({ kind, namespace, limit: pageSize });
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const items = matching.slice(start, start + pageSize).map((o) => structuredClone(o));
      const remaining = Math.max(0, matching.length - start - items.length);
      yield { items, remaining };
      if (matching.length === 0) return;
    }
  }

  async getNamespace(name: string): Promise<KubeObject | undefined> {
    return this.objects.find((o) => o.kind === "Namespace" && o.metadata?.name === name);
  }

  async serverVersion(): Promise<ServerVersion | undefined> {
    return this.version ?? undefined;
  }
}

const keyOf = (ref: ReportRef) => `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;

export class FakeReportApi implements ReportApi {
  constructor(readonly format?: ReportFormat) {}
  readonly store = new Map<string, PolicyReportObject>();
  readonly log: string[] = [];
  private version = 0;
  /** Replaces that fail with a conflict before one succeeds. */
  conflicts = 0;

  async get(ref: ReportRef) {
    this.log.push(`get ${keyOf(ref)}`);
    const found = this.store.get(keyOf(ref));
    return found ? structuredClone(found) : undefined;
  }

  async create(report: PolicyReportObject) {
    const key = keyOf({ ...report, ...report.metadata, kind: report.kind });
    this.log.push(`create ${key}`);
    if (this.store.has(key)) throw new ReportConflictError("exists");
    this.store.set(key, {
      ...structuredClone(report),
      metadata: { ...structuredClone(report.metadata), resourceVersion: String(++this.version) },
    });
  }

  async replace(report: PolicyReportObject) {
    const key = keyOf({ ...report, ...report.metadata, kind: report.kind });
    this.log.push(`replace ${key}`);
    const stored = this.store.get(key);
    if (this.conflicts > 0) {
      this.conflicts--;
      // Someone else wrote in between.
      if (stored) stored.metadata.resourceVersion = String(++this.version);
      throw new ReportConflictError("changed");
    }
    if (!stored || stored.metadata.resourceVersion !== report.metadata.resourceVersion) {
      throw new ReportConflictError("changed");
    }
    this.store.set(key, {
      ...structuredClone(report),
      metadata: { ...structuredClone(report.metadata), resourceVersion: String(++this.version) },
    });
  }

  async delete(ref: ReportRef) {
    this.log.push(`delete ${keyOf(ref)}`);
    this.store.delete(keyOf(ref));
  }

  async namespacesWithReports() {
    return [...this.store.values()]
      .filter(
        (r) =>
          r.kind === (this.format ?? REPORT_FORMATS.wgpolicyk8s).namespacedKind &&
          Object.entries(REPORT_LABELS).every(([k, v]) => r.metadata.labels[k] === v),
      )
      .map((r) => r.metadata.namespace as string);
  }
}

/** The shipped policies with these ids, as a policy set with the default exemptions. */
export function policiesOf(ids: string[], kinds: Record<string, string[]> = {}): ResolvedPolicySet {
  const chosen = shippedPolicies()
    .filter((p) => ids.includes(p.declaration.id))
    .map((p) => {
      const only = kinds[p.declaration.id];
      if (!only) return p;
      return {
        ...p,
        declaration: { ...p.declaration, match: { ...p.declaration.match, kinds: only } },
      };
    });
  if (chosen.length !== ids.length) throw new Error(`unknown policy among ${ids.join(", ")}`);
  return resolvePolicySet(
    chosen,
    { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" },
    "test policies",
  );
}

// ---------------------------------------------------------------------------
// Object builders.

let uid = 0;
const meta = (name: string, namespace?: string, extra: Record<string, unknown> = {}) => ({
  name,
  ...(namespace ? { namespace } : {}),
  uid: `uid-${++uid}`,
  ...extra,
});

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: meta(name, undefined, { labels }) };
}

export interface PodOptions {
  image?: string;
  privileged?: boolean;
  labels?: Record<string, string>;
  automount?: boolean;
}

function podSpec(o: PodOptions) {
  return {
    ...(o.automount === undefined ? {} : { automountServiceAccountToken: o.automount }),
    containers: [
      {
        name: "app",
        image: o.image ?? "contoso.azurecr.io/app:1.0",
        ...(o.privileged ? { securityContext: { privileged: true } } : {}),
      },
    ],
  };
}

export function deployment(
  ns: string,
  name: string,
  o: PodOptions & { replicas?: number; kind?: "Deployment" | "StatefulSet" } = {},
): KubeObject {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: "apps/v1",
    kind: o.kind ?? "Deployment",
    metadata: meta(name, ns),
    spec: {
      ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec(o) },
    },
  };
}

const owner = (kind: string, name: string) => [
  { apiVersion: "apps/v1", kind, name, uid: "x", controller: true },
];

export function replicaSet(ns: string, name: string, ownerName: string, o: PodOptions = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: meta(name, ns, { ownerReferences: owner("Deployment", ownerName) }),
    spec: { template: { metadata: { labels: {} }, spec: podSpec(o) } },
  } satisfies KubeObject;
}

export function pod(ns: string, name: string, o: PodOptions & { ownedBy?: string } = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta(
      name,
      ns,
      o.ownedBy ? { ownerReferences: owner("ReplicaSet", o.ownedBy) } : { labels: o.labels ?? {} },
    ),
    spec: podSpec(o),
  } satisfies KubeObject;
}

export function service(
  ns: string,
  name: string,
  o: { type?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, ns, { annotations: o.annotations ?? {}, labels: o.labels ?? {} }),
    spec: { type: o.type ?? "ClusterIP", ports: [{ port: 80 }] },
  };
}

export function quota(ns: string): KubeObject {
  return { apiVersion: "v1", kind: "ResourceQuota", metadata: meta("q", ns), spec: { hard: {} } };
}

export function limitRange(ns: string): KubeObject {
  return { apiVersion: "v1", kind: "LimitRange", metadata: meta("lr", ns), spec: { limits: [] } };
}

export function networkPolicy(ns: string, spec: Record<string, unknown>, name = "np"): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta(name, ns),
    spec,
  };
}

export const DEFAULT_DENY = { podSelector: {}, policyTypes: ["Ingress"] };

export function pdb(ns: string, selector: unknown, name = "pdb"): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(name, ns),
    spec: { minAvailable: 1, selector },
  };
}

/** A namespace with a quota, a limit range and a default-deny policy: hygiene passes. */
export function tidyNamespace(name: string): KubeObject[] {
  return [namespace(name), quota(name), limitRange(name), networkPolicy(name, DEFAULT_DENY)];
}
