import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  VersionApi,
} from "@kubernetes/client-node";
import { KIND_INFO, type KindInfo, qualifiedResource } from "../audit/kinds.js";
import type { ClusterSource, ListPage, ServerVersion } from "../audit/types.js";
import type { KubeObject } from "../engine/index.js";
import { httpStatusOf, kubeStatusOf } from "./api-errors.js";
import { toAuditError, withRetry } from "./audit-connect.js";

interface ListParams {
  limit: number;
  _continue?: string | undefined;
}

interface ListResult {
  items: object[];
  metadata?: { _continue?: string; remainingItemCount?: number } | undefined;
}

type Lister = (params: ListParams) => Promise<ListResult>;

interface Apis {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  networking: NetworkingV1Api;
  policy: PolicyV1Api;
  autoscaling: AutoscalingV2Api;
}

interface Listers {
  all: Lister;
  /** Absent for cluster-scoped kinds. */
  namespaced?: (namespace: string) => Lister;
}

/** The client-node list call of every kind the audit reads. */
const LISTERS: Readonly<Record<string, (a: Apis) => Listers>> = {
  Namespace: (a) => ({ all: (p) => a.core.listNamespace(p) }),
  ResourceQuota: (a) => ({
    all: (p) => a.core.listResourceQuotaForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedResourceQuota({ ...p, namespace }),
  }),
  LimitRange: (a) => ({
    all: (p) => a.core.listLimitRangeForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedLimitRange({ ...p, namespace }),
  }),
  NetworkPolicy: (a) => ({
    all: (p) => a.networking.listNetworkPolicyForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.networking.listNamespacedNetworkPolicy({ ...p, namespace }),
  }),
  PodDisruptionBudget: (a) => ({
    all: (p) => a.policy.listPodDisruptionBudgetForAllNamespaces(p),
    namespaced: (namespace) => (p) =>
      a.policy.listNamespacedPodDisruptionBudget({ ...p, namespace }),
  }),
  HorizontalPodAutoscaler: (a) => ({
    all: (p) => a.autoscaling.listHorizontalPodAutoscalerForAllNamespaces(p),
    namespaced: (namespace) => (p) =>
      a.autoscaling.listNamespacedHorizontalPodAutoscaler({ ...p, namespace }),
  }),
  ServiceAccount: (a) => ({
    all: (p) => a.core.listServiceAccountForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedServiceAccount({ ...p, namespace }),
  }),
  ConfigMap: (a) => ({
    all: (p) => a.core.listConfigMapForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedConfigMap({ ...p, namespace }),
  }),
  Deployment: (a) => ({
    all: (p) => a.apps.listDeploymentForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.apps.listNamespacedDeployment({ ...p, namespace }),
  }),
  StatefulSet: (a) => ({
    all: (p) => a.apps.listStatefulSetForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.apps.listNamespacedStatefulSet({ ...p, namespace }),
  }),
  DaemonSet: (a) => ({
    all: (p) => a.apps.listDaemonSetForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.apps.listNamespacedDaemonSet({ ...p, namespace }),
  }),
  ReplicaSet: (a) => ({
    all: (p) => a.apps.listReplicaSetForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.apps.listNamespacedReplicaSet({ ...p, namespace }),
  }),
  ReplicationController: (a) => ({
    all: (p) => a.core.listReplicationControllerForAllNamespaces(p),
    namespaced: (namespace) => (p) =>
      a.core.listNamespacedReplicationController({ ...p, namespace }),
  }),
  CronJob: (a) => ({
    all: (p) => a.batch.listCronJobForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.batch.listNamespacedCronJob({ ...p, namespace }),
  }),
  Job: (a) => ({
    all: (p) => a.batch.listJobForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.batch.listNamespacedJob({ ...p, namespace }),
  }),
  Pod: (a) => ({
    all: (p) => a.core.listPodForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedPod({ ...p, namespace }),
  }),
  Service: (a) => ({
    all: (p) => a.core.listServiceForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.core.listNamespacedService({ ...p, namespace }),
  }),
  Ingress: (a) => ({
    all: (p) => a.networking.listIngressForAllNamespaces(p),
    namespaced: (namespace) => (p) => a.networking.listNamespacedIngress({ ...p, namespace }),
  }),
};

/**
 * client-node model properties whose JSON name is a reserved word; only
 * those on kinds the audit lists matter (NetworkPolicy ingress rules,
 * LimitRange items).
 */
const WIRE_NAMES: Readonly<Record<string, string>> = {
  _from: "from",
  _default: "default",
  _continue: "continue",
  _enum: "enum",
  _int: "int",
};

function wireValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, "Z");
  if (Array.isArray(value)) return value.map(wireValue);
  if (value === null || typeof value !== "object") return value;
  // Generated models are class instances; maps (labels, annotations...) are plain objects.
  const model = Object.getPrototypeOf(value) !== Object.prototype;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[model ? (WIRE_NAMES[key] ?? key) : key] = wireValue(v);
  }
  return out;
}

/**
 * The object as the API server serialized it and as an admission review
 * carries it: plain JSON with apiVersion and kind, which list items lack.
 * Fields newer than the client's models are not kept by client-node.
 */
export function toWireObject(item: object, info: KindInfo): KubeObject {
  const plain = wireValue(item) as KubeObject;
  return { apiVersion: info.apiVersion, kind: info.kind, ...plain };
}

/** Reads the cluster through @kubernetes/client-node's typed list calls. */
export class KubeAuditSource implements ClusterSource {
  readonly endpoint: string;
  private readonly apis: Apis;
  private readonly version: VersionApi;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.endpoint = kc.getCurrentCluster()?.server ?? "(unknown server)";
    this.apis = {
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      batch: kc.makeApiClient(BatchV1Api),
      networking: kc.makeApiClient(NetworkingV1Api),
      policy: kc.makeApiClient(PolicyV1Api),
      autoscaling: kc.makeApiClient(AutoscalingV2Api),
    };
    this.core = this.apis.core;
    this.version = kc.makeApiClient(VersionApi);
  }

  listableKinds(): readonly string[] {
    return Object.keys(LISTERS).filter((k) => KIND_INFO.has(k));
  }

  async *list(
    kind: string,
    namespace: string | undefined,
    pageSize: number,
  ): AsyncGenerator<ListPage> {
    const info = KIND_INFO.get(kind);
    const make = LISTERS[kind];
    if (!info || !make) throw new Error(`the audit cannot list ${kind}`);
    const listers = make(this.apis);
    const scoped = info.namespaced && namespace !== undefined;
    const lister = scoped && listers.namespaced ? listers.namespaced(namespace) : listers.all;
    const attempt = {
      verb: "list",
      resource: qualifiedResource(info),
      namespace: scoped ? namespace : undefined,
      endpoint: this.endpoint,
    };
    let token: string | undefined;
    do {
      let page: ListResult;
      try {
        page = await withRetry(() => lister({ limit: pageSize, _continue: token }));
      } catch (error) {
        // An expired continue token: the server offers one that continues
        // without the snapshot guarantee, which beats starting over.
        const fresh =
          httpStatusOf(error) === 410 ? kubeStatusOf(error)?.metadata?.continue : undefined;
        if (token && fresh) {
          token = fresh;
          continue;
        }
        throw toAuditError(error, attempt);
      }
      token = page.metadata?._continue || undefined;
      yield {
        items: page.items.map((item) => toWireObject(item, info)),
        remaining: page.metadata?.remainingItemCount,
      };
    } while (token);
  }

  async getNamespace(name: string): Promise<KubeObject | undefined> {
    const info = KIND_INFO.get("Namespace") as KindInfo;
    try {
      return toWireObject(await withRetry(() => this.core.readNamespace({ name })), info);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw toAuditError(error, { verb: "get", resource: "namespaces", endpoint: this.endpoint });
    }
  }

  async serverVersion(): Promise<ServerVersion | undefined> {
    try {
      const v = await withRetry(() => this.version.getCode());
      return { major: v.major, minor: v.minor, gitVersion: v.gitVersion };
    } catch {
      return undefined;
    }
  }
}
