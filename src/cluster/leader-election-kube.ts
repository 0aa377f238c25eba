import {
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from "@kubernetes/client-node";
import { httpStatusOf } from "./api-errors.js";
import type { LeaseRecord, LeaseStore, StoredLease } from "./leader-election.js";

function millis(value: Date | undefined): number {
  return value ? new Date(value).getTime() : 0;
}

function toLease(
  name: string,
  namespace: string,
  record: LeaseRecord,
  resourceVersion?: string,
): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name,
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { "app.kubernetes.io/name": "tollgate", "app.kubernetes.io/component": "audit" },
    },
    spec: {
      // An empty holder is written as absent, as Kubernetes' own releases do.
      ...(record.holder ? { holderIdentity: record.holder } : {}),
      leaseDurationSeconds: record.leaseDurationSeconds,
      // MicroTime: the API server wants six fractional digits.
      acquireTime: new V1MicroTime(record.acquireTime),
      renewTime: new V1MicroTime(record.renewTime),
      leaseTransitions: record.transitions,
    },
  };
}

/** One named Lease in one namespace through CoordinationV1Api. */
export function kubeLeaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    async get(): Promise<StoredLease | undefined> {
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
      const spec = lease.spec ?? {};
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? "",
        record: {
          holder: spec.holderIdentity ?? "",
          leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
          acquireTime: millis(spec.acquireTime),
          renewTime: millis(spec.renewTime),
          transitions: spec.leaseTransitions ?? 0,
        },
      };
    },
    async create(record) {
      try {
        await api.createNamespacedLease({ namespace, body: toLease(name, namespace, record) });
        return true;
      } catch (error) {
        if (httpStatusOf(error) === 409) return false;
        throw error;
      }
    },
    async update(record, resourceVersion) {
      try {
        await api.replaceNamespacedLease({
          name,
          namespace,
          body: toLease(name, namespace, record, resourceVersion),
        });
        return true;
      } catch (error) {
        if (httpStatusOf(error) === 409) return false;
        throw error;
      }
    },
  };
}
