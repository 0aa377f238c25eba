import type { AuditView, Finding, NamespaceCounts, Severity } from "./audit-document.js";

/** What the dashboard's JSON endpoints return, computed once per audit. */

export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];
/** Findings one namespace, policy or cluster answer lists at most; counts stay complete. */
export const MAX_LISTED_FINDINGS = 5_000;

export type SeverityCounts = Record<Severity, number>;

export interface NamespaceRow extends NamespaceCounts {
  /** Passing share of the namespace's policy results, 0–100 (100 when it has none). */
  percent: number;
  findings: number;
  bySeverity: SeverityCounts;
  /** Checklist items with at least one finding in the namespace. */
  failingItems: number;
}

export interface PolicyRow {
  policy: string;
  title: string;
  source: "policy" | "check";
  severity: Severity;
  section: string;
  item: string;
  findings: number;
  namespaces: number;
}

export interface ResourceFindings {
  kind: string;
  name: string;
  findings: Finding[];
}

export interface FindingList {
  total: number;
  /** Findings past MAX_LISTED_FINDINGS, counted but not listed. */
  omitted: number;
  resources: ResourceFindings[];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

function zeroSeverities(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0 };
}

/** Passing share as a whole percentage; 100 when nothing was judged. */
export function passPercent(c: { pass: number; fail: number; warn: number }): number {
  const all = c.pass + c.fail + c.warn;
  return all === 0 ? 100 : Math.round((c.pass / all) * 100);
}

/** Groups findings by resource, worst first, keeping at most MAX_LISTED_FINDINGS. */
export function groupByResource(findings: readonly Finding[]): FindingList {
  const sorted = [...findings].sort((a, b) => rank(a.severity) - rank(b.severity));
  const listed = sorted.slice(0, MAX_LISTED_FINDINGS);
  const byResource = new Map<string, ResourceFindings>();
  for (const f of listed) {
    const kind = f.kind ?? "Cluster";
    const name = f.name ?? "";
    const key = `${kind}\u0000${f.namespace ?? ""}\u0000${name}`;
    let group = byResource.get(key);
    if (!group) {
      group = { kind, name, findings: [] };
      byResource.set(key, group);
    }
    group.findings.push(f);
  }
  return {
    total: findings.length,
    omitted: findings.length - listed.length,
    resources: [...byResource.values()],
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** One audit, indexed for the dashboard's views. */
export class DashboardModel {
  private readonly byNamespace = new Map<string, Finding[]>();
  private readonly byPolicy = new Map<string, Finding[]>();
  private readonly clusterFindings: Finding[] = [];
  readonly namespaceRows: NamespaceRow[];
  readonly policyRows: PolicyRow[];
  readonly bySeverity: SeverityCounts = zeroSeverities();

  constructor(readonly audit: AuditView) {
    const audited = new Set(audit.namespaces.map((n) => n.namespace));
    for (const f of audit.findings) {
      this.bySeverity[f.severity]++;
      push(this.byPolicy, f.policy, f);
      // Findings in exempt namespaces go to the cluster's report, as in the audit.
      if (f.namespace !== undefined && audited.has(f.namespace)) {
        push(this.byNamespace, f.namespace, f);
      } else this.clusterFindings.push(f);
    }
    this.namespaceRows = audit.namespaces.map((counts) => this.namespaceRow(counts));
    this.policyRows = [...this.byPolicy.values()]
      .map((list) => policyRow(list))
      .sort((a, b) => rank(a.severity) - rank(b.severity) || b.findings - a.findings);
  }

  private namespaceRow(counts: NamespaceCounts): NamespaceRow {
    const findings = this.byNamespace.get(counts.namespace) ?? [];
    const bySeverity = zeroSeverities();
    const items = new Set<string>();
    for (const f of findings) {
      bySeverity[f.severity]++;
      items.add(`${f.section}\u0000${f.item}`);
    }
    return {
      ...counts,
      percent: passPercent(counts),
      findings: findings.length,
      bySeverity,
      failingItems: items.size,
    };
  }

  hasNamespace(name: string): boolean {
    return this.audit.namespaces.some((n) => n.namespace === name);
  }

  namespaceFindings(name: string): FindingList {
    return groupByResource(this.byNamespace.get(name) ?? []);
  }

  policyFindings(policy: string): FindingList | undefined {
    const list = this.byPolicy.get(policy);
    return list ? groupByResource(list) : undefined;
  }

  clusterLevelFindings(): FindingList {
    return groupByResource(this.clusterFindings);
  }
}

function policyRow(list: readonly Finding[]): PolicyRow {
  const first = list[0] as Finding;
  const namespaces = new Set(list.map((f) => f.namespace).filter((n) => n !== undefined));
  return {
    policy: first.policy,
    title: first.title,
    source: first.source,
    severity: first.severity,
    section: first.section,
    item: first.item,
    findings: list.length,
    namespaces: namespaces.size,
  };
}
