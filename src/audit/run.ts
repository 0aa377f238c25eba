import {
  type ChecklistRef,
  compilePolicySet,
  evaluate,
  inputFromObject,
  isWorkloadKind,
  type KubeObject,
  type PatchOperation,
  type PolicyDeclaration,
  type PolicySet,
  toFieldPath,
} from "../engine/index.js";
import type { ResolvedPolicySet } from "../policyset/index.js";
import {
  AZURE_INTERNAL_LB,
  CHECKS,
  CLUSTER_CHECKS,
  type ClusterCheck,
  controllerOf,
  dashboardEvidence,
  isDefaultDenyIngress,
  isInternalLoadBalancer,
  isLoadBalancer,
  judgeVersion,
  replicasOf,
  selectorMatches,
  templateLabelsOf,
  type VersionVerdict,
} from "./cluster-checks.js";
import { AuditError } from "./errors.js";
import { type KindInfo, planListing } from "./kinds.js";
import { reachOf } from "./reach.js";
import { type ChecklistScore, scoreChecklist } from "./score.js";
import { AuditTally, CLUSTER_BUCKET, DEFAULT_LIMITS, type TallyLimits } from "./tally.js";
import type {
  AuditFinding,
  AuditProgress,
  AuditResourceRef,
  ClusterSource,
  ServerVersion,
} from "./types.js";

export const DEFAULT_PAGE_SIZE = 500;

export interface AuditOptions {
  policies: ResolvedPolicySet;
  /** Namespaces to audit; undefined audits the whole cluster. */
  namespaces?: readonly string[] | undefined;
  pageSize?: number | undefined;
  limits?: Partial<TallyLimits> | undefined;
  /** Called for every finding, in the order found, whatever the caps; awaited. */
  onFinding?: ((finding: AuditFinding) => void | Promise<void>) | undefined;
  onProgress?: ((progress: AuditProgress) => void) | undefined;
  /** Stops the audit between pages. */
  signal?: AbortSignal | undefined;
  now?: (() => Date) | undefined;
}

export interface CheckStatus {
  id: string;
  title: string;
  checklist: ChecklistRef;
  severity: string;
  status: "pass" | "fail" | "unknown";
  findings: number;
  passes: number;
}

export interface AuditResult {
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  endpoint: string;
  serverVersion: ServerVersion | undefined;
  version: VersionVerdict;
  /** Where the policy set came from: a file or "built-in defaults". */
  policySet: string;
  /** The namespaces asked for, or undefined for the whole cluster. */
  namespaceFilter: string[] | undefined;
  /** Audited namespaces (exempt ones excluded), sorted. */
  namespaces: string[];
  /** Exempt namespaces seen; counted for cluster-level checks only. */
  exemptNamespaces: string[];
  tally: AuditTally;
  checks: CheckStatus[];
  score: ChecklistScore;
  notes: string[];
}

interface Facts {
  quota: Set<string>;
  limitRange: Set<string>;
  defaultDeny: Set<string>;
  /** Selectors of the PodDisruptionBudgets of each namespace. */
  pdbs: Map<string, unknown[]>;
}

function refOf(object: KubeObject, info: KindInfo): AuditResourceRef {
  const meta = object.metadata ?? {};
  const uid = (meta as { uid?: unknown }).uid;
  return {
    apiVersion: info.apiVersion,
    kind: info.kind,
    namespace: info.namespaced ? meta.namespace : undefined,
    name: meta.name ?? "<unnamed>",
    uid: typeof uid === "string" ? uid : undefined,
  };
}

function describe(ref: AuditResourceRef): string {
  return `${ref.kind} "${ref.name}"`;
}

function pointerToPath(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `add spec.template.spec.automountServiceAccountToken = false` */
export function describePatch(ops: readonly PatchOperation[]): string {
  return ops
    .map((op) => {
      const path = toFieldPath(pointerToPath(op.path)) || "/";
      if (op.op === "remove") return `remove ${path}`;
      let value = JSON.stringify(op.value) ?? "null";
      if (value.length > 80) value = `${value.slice(0, 79)}…`;
      return `${op.op} ${path} = ${value}`;
    })
    .join("; ");
}

function sameItem(a: ChecklistRef | undefined, b: ChecklistRef): boolean {
  return a !== undefined && a.section === b.section && a.item === b.item;
}

/**
 * Audits a live cluster: lists every kind the policy set matches (and what
 * the cluster checks need) page by page, evaluates each object exactly as an
 * admission CREATE in enforce mode, runs the cluster-level checks and scores
 * the checklist. Memory stays bounded: objects are dropped after their page,
 * and only counts, small per-namespace facts and capped findings are kept.
 */
export async function runAudit(source: ClusterSource, options: AuditOptions): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const { set, source: policySource } = options.policies;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const tally = new AuditTally({ ...DEFAULT_LIMITS, ...options.limits });
  const plan = planListing(set, source.listableKinds());
  const declarations = new Map<string, PolicyDeclaration>(
    set.policies.map((p) => [p.declaration.id, p.declaration]),
  );
  const isExempt = (namespace: string) => set.exemptNamespace(namespace);
  const facts: Facts = {
    quota: new Set(),
    limitRange: new Set(),
    defaultDeny: new Set(),
    pdbs: new Map(),
  };
  const audited = new Set<string>();
  const exemptSeen = new Set<string>();
  /** Namespaces being deleted: nothing in them is audited, and no report can be written there. */
  const deleting = new Set<string>();
  const notes: string[] = plan.unsupported.map(
    ({ kind, policies }) =>
      `not audited: ${kind}, matched by ${policies.join(", ")}, is a kind the audit does not list`,
  );

  const checkAborted = () => {
    if (options.signal?.aborted) throw new AuditError("aborted", "the audit was stopped");
  };

  const emit = async (bucketKey: string, finding: AuditFinding) => {
    tally.add(bucketKey, finding);
    if (options.onFinding) await options.onFinding(finding);
  };

  const bucketOf = (scope: AuditFinding["scope"], home: string | undefined, exempt: boolean) =>
    scope === "cluster" || home === undefined || exempt ? CLUSTER_BUCKET : home;

  const checkFinding = (
    check: ClusterCheck,
    message: string,
    resource: AuditResourceRef | undefined,
    path?: string,
  ): AuditFinding => ({
    source: "check",
    policy: check.id,
    title: check.title,
    checklist: check.checklist,
    severity: check.severity,
    action: "report",
    result: "fail",
    message: resource ? `${describe(resource)}: ${message}` : message,
    resource,
    path,
    scope: check.scope,
  });

  const noteNamespace = (name: string) => {
    if (isExempt(name)) {
      exemptSeen.add(name);
      return;
    }
    audited.add(name);
    tally.bucket(name);
  };

  // One-policy sets, built on first use, to tell apart what each mutation changes.
  const single = new Map<string, PolicySet>();
  const ownPatch = (id: string, object: KubeObject): PatchOperation[] | undefined => {
    let one = single.get(id);
    if (!one) {
      const policy = set.policies.find((p) => p.declaration.id === id);
      if (!policy) return undefined;
      one = compilePolicySet([policy], []);
      single.set(id, one);
    }
    return evaluate(inputFromObject(object), one, { mode: "enforce", phase: "mutate" }).patch;
  };

  /** The engine's verdict on one object, as findings, plus the policies that passed. */
  const evaluateObject = (object: KubeObject, ref: AuditResourceRef) => {
    const verdict = evaluate(inputFromObject(object), set, { mode: "enforce", phase: "both" });
    const findings: AuditFinding[] = verdict.violations.map((v) => ({
      source: "policy",
      policy: v.policy,
      title: v.title,
      checklist: v.checklist,
      severity: v.severity,
      action: v.action,
      result: v.action === "deny" ? "fail" : "warn",
      message: v.message,
      resource: ref,
      path: v.path || undefined,
      container: v.container,
      scope: "namespace",
    }));
    for (const id of verdict.mutatedBy) {
      const d = declarations.get(id);
      if (!d) continue;
      // Each mutation's own operations, against the object as stored.
      const patch =
        verdict.mutatedBy.length === 1 ? verdict.patch : (ownPatch(id, object) ?? verdict.patch);
      findings.push({
        source: "policy",
        policy: id,
        title: d.title,
        checklist: d.checklist,
        severity: d.severity,
        action: "patch",
        result: "warn",
        message:
          `${describe(ref)}: would be changed by ${id} on admission (${describePatch(patch)}); ` +
          "set this in the manifest so the stored object complies",
        resource: ref,
        patch,
        scope: "namespace",
      });
    }
    return { evaluated: verdict.evaluated, findings };
  };

  const handleObject = async (object: KubeObject, info: KindInfo) => {
    const counts = tally.kind(info.kind);
    counts.listed++;
    const ref = refOf(object, info);
    const home = info.kind === "Namespace" ? ref.name : ref.namespace;
    if (
      info.kind === "Namespace" &&
      (object.status as { phase?: unknown })?.phase === "Terminating"
    ) {
      deleting.add(ref.name);
    }
    if (home !== undefined && deleting.has(home)) {
      counts.deleting++;
      return;
    }
    const exempt = home !== undefined && isExempt(home);
    if (home !== undefined) (exempt ? exemptSeen : audited).add(home);
    const bucketKey = (scope: AuditFinding["scope"]) => bucketOf(scope, home, exempt);

    // Facts for the cluster checks.
    if (home !== undefined && !exempt) {
      if (info.kind === "ResourceQuota") facts.quota.add(home);
      else if (info.kind === "LimitRange") facts.limitRange.add(home);
      else if (info.kind === "NetworkPolicy" && isDefaultDenyIngress(object)) {
        facts.defaultDeny.add(home);
      } else if (info.kind === "PodDisruptionBudget") {
        const selectors = facts.pdbs.get(home) ?? [];
        selectors.push((object.spec as { selector?: unknown } | undefined)?.selector);
        facts.pdbs.set(home, selectors);
      }
    }

    // The engine, as on an admission CREATE.
    const owner = controllerOf(object);
    let evaluated: string[] = [];
    let findings: AuditFinding[] = [];
    if (plan.evaluate.has(info.kind)) {
      if (exempt) counts.exempt++;
      else if (owner && plan.evaluate.has(owner.kind)) counts.coveredByOwner++;
      else {
        counts.evaluated++;
        ({ evaluated, findings } = evaluateObject(object, ref));
        const failed = new Set(findings.map((f) => f.policy));
        for (const id of evaluated) {
          const d = declarations.get(id);
          if (d && !failed.has(id))
            tally.pass(bucketKey("namespace"), { id, source: "policy" }, d.checklist);
        }
        if (findings.some((f) => f.action === "deny")) tally.deniedObjects++;
        for (const f of findings) await emit(bucketKey("namespace"), f);
      }
    }

    // Cluster-level checks on this object.
    const deferred = (check: ClusterCheck) =>
      (check.defer === "evaluated" &&
        evaluated.some((id) => sameItem(declarations.get(id)?.checklist, check.checklist))) ||
      (check.defer === "reported" && findings.some((f) => sameItem(f.checklist, check.checklist)));
    const judge = async (check: ClusterCheck, problem: string | undefined, path?: string) => {
      if (deferred(check)) return;
      const key = bucketKey(check.scope);
      if (problem === undefined)
        tally.pass(key, { id: check.id, source: "check" }, check.checklist);
      else await emit(key, checkFinding(check, problem, ref, path));
    };
    const topLevel = !owner || !isWorkloadKind(owner.kind);

    if (topLevel && (isWorkloadKind(info.kind) || info.kind === "Service")) {
      const evidence = dashboardEvidence(object);
      if (evidence) {
        await judge(
          CHECKS.dashboard,
          `${evidence}, so the Kubernetes dashboard looks installed; remove it and use the Azure portal or kubectl, which use each user's own credentials`,
        );
      }
    }
    if (home === "default" && topLevel && isWorkloadKind(info.kind)) {
      await judge(
        CHECKS.defaultNamespace,
        "runs in the default namespace; move it to a namespace of its own so quotas, network policies and RBAC can be scoped to it",
        "metadata.namespace",
      );
    }
    if (info.kind === "Service" && isLoadBalancer(object)) {
      await judge(
        CHECKS.publicLoadBalancer,
        isInternalLoadBalancer(object)
          ? undefined
          : `is a LoadBalancer without the annotation ${AZURE_INTERNAL_LB}: "true", so Azure gives it a public IP; add the annotation, or put the application behind an internal ingress`,
        `metadata.annotations["${AZURE_INTERNAL_LB}"]`,
      );
    }
    if (
      (info.kind === "Deployment" || info.kind === "StatefulSet") &&
      home !== undefined &&
      !exempt &&
      replicasOf(object) > 1
    ) {
      const labels = templateLabelsOf(object);
      const covered = (facts.pdbs.get(home) ?? []).some((s) => selectorMatches(s, labels));
      await judge(
        CHECKS.disruptionBudget,
        covered
          ? undefined
          : `runs ${replicasOf(object)} replicas but no PodDisruptionBudget selects its pods, so a node drain may evict them all at once; add a PodDisruptionBudget whose selector matches spec.template.metadata.labels`,
      );
    }
  };

  const listKind = async (info: KindInfo, step: number, steps: number) => {
    const scopes = info.namespaced && options.namespaces ? [...options.namespaces] : [undefined];
    let done = 0;
    for (const namespace of scopes) {
      for await (const page of source.list(info.kind, namespace, pageSize)) {
        checkAborted();
        for (const item of page.items) await handleObject(item, info);
        done += page.items.length;
        options.onProgress?.({
          kind: info.kind,
          done,
          total: page.remaining !== undefined ? done + page.remaining : undefined,
          step,
          steps,
        });
      }
    }
    if (done === 0) options.onProgress?.({ kind: info.kind, done, total: 0, step, steps });
  };

  // 1. The server version: a failure here is not fatal, it is "unknown".
  const serverVersion = await source.serverVersion();
  checkAborted();

  // 2. Namespaces, then everything else in plan order.
  const steps = plan.list.length;
  let step = 0;
  for (const info of plan.list) {
    step++;
    if (info.kind === "Namespace" && options.namespaces) {
      for (const name of options.namespaces) {
        const namespace = await source.getNamespace(name);
        if (!namespace) throw new AuditError("not-found", `namespace "${name}" not found`);
        await handleObject(namespace, info);
        if (!deleting.has(name)) noteNamespace(name);
      }
      options.onProgress?.({ kind: info.kind, done: options.namespaces.length, step, steps });
      continue;
    }
    if (info.kind === "Namespace") {
      // Namespace objects go through handleObject; it notes them as it goes.
      await listKind(info, step, steps);
      for (const name of audited) tally.bucket(name);
      continue;
    }
    await listKind(info, step, steps);
  }

  // 3. Per-namespace hygiene, over the facts collected above.
  for (const namespace of [...audited].sort()) {
    const ref: AuditResourceRef = { apiVersion: "v1", kind: "Namespace", name: namespace };
    const hygiene: [ClusterCheck, boolean, string][] = [
      [
        CHECKS.resourceQuota,
        facts.quota.has(namespace),
        "has no ResourceQuota, so one team can use up the cluster's CPU, memory or object counts; add a ResourceQuota sized for the namespace",
      ],
      [
        CHECKS.limitRange,
        facts.limitRange.has(namespace),
        "has no LimitRange, so containers that set no requests or limits get none; add a LimitRange with default requests and limits",
      ],
      [
        CHECKS.defaultDeny,
        facts.defaultDeny.has(namespace),
        "has no default-deny NetworkPolicy, so every pod accepts traffic from anywhere in the cluster; add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress] and no ingress rules, then allow what each application needs",
      ],
    ];
    for (const [check, ok, problem] of hygiene) {
      if (ok) tally.pass(namespace, { id: check.id, source: "check" }, check.checklist);
      else await emit(namespace, checkFinding(check, problem, ref));
    }
  }

  // 4. The version.
  const version = judgeVersion(serverVersion);
  if (version.status === "pass") {
    tally.pass(
      CLUSTER_BUCKET,
      { id: CHECKS.version.id, source: "check" },
      CHECKS.version.checklist,
    );
  } else if (version.status === "fail") {
    await emit(CLUSTER_BUCKET, checkFinding(CHECKS.version, version.message, undefined));
  }

  if (deleting.size > 0) {
    notes.push(
      `skipped ${deleting.size} namespace${deleting.size === 1 ? "" : "s"} being deleted: ${[...deleting].sort().slice(0, 5).join(", ")}${deleting.size > 5 ? ", …" : ""}`,
    );
  }
  if (options.namespaces) {
    notes.push(
      "only the namespaces given were read: the dashboard and load-balancer checks saw nothing outside them",
    );
  }

  const checks: CheckStatus[] = CLUSTER_CHECKS.map((c) => {
    const rule = tally.rules.get(c.id);
    const findings = rule?.findings ?? 0;
    const status =
      c.id === CHECKS.version.id && version.status === "unknown"
        ? "unknown"
        : findings > 0
          ? "fail"
          : "pass";
    return {
      id: c.id,
      title: c.title,
      checklist: c.checklist,
      severity: c.severity,
      status,
      findings,
      passes: rule?.passes ?? 0,
    };
  });
  const unknown = new Map<string, string>();
  if (version.status === "unknown") unknown.set(CHECKS.version.id, version.message);
  const reach = reachOf(
    set.policies.map((p) => ({ id: p.declaration.id, checklist: p.declaration.checklist })),
    CLUSTER_CHECKS,
  );
  const finishedAt = now();
  return {
    startedAt,
    finishedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    endpoint: source.endpoint,
    serverVersion,
    version,
    policySet: policySource,
    namespaceFilter: options.namespaces ? [...options.namespaces] : undefined,
    namespaces: [...audited].sort(),
    exemptNamespaces: [...exemptSeen].sort(),
    tally,
    checks,
    score: scoreChecklist(reach, tally.items, unknown),
    notes,
  };
}

/**
 * The CLI's exit code for a finished audit: 1 when anything would be
 * denied, or, with `strict`, when any cluster-level check failed; else 0.
 * Cluster checks do not fail the audit by default: most clusters miss some
 * namespace hygiene for a long time, and a CI gate on "would admission
 * break my workloads" must not be red for that.
 */
export function exitCodeOf(result: AuditResult, strict = false): 0 | 1 {
  if (result.tally.totals.deny > 0) return 1;
  if (strict && result.checks.some((c) => c.status === "fail")) return 1;
  return 0;
}
