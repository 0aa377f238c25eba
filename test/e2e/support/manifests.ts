// Workloads for the e2e tests: every builder returns an object that passes the
// whole shipped policy set (test/e2e/policyset.yaml) with no warning, so a test
// breaks it in exactly the one way it is about.
import type {
  V1Container,
  V1CronJob,
  V1Deployment,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
} from "@kubernetes/client-node";

/** In the e2e policy set's trusted registries; never pulled (no kubelet). */
export const TRUSTED_IMAGE = "registry.e2e.tollgate.test/web:1.0";
export const UNTRUSTED_IMAGE = "docker.io/library/nginx:1.27";

export function compliantContainer(name = "app"): V1Container {
  return {
    name,
    image: TRUSTED_IMAGE,
    imagePullPolicy: "IfNotPresent",
    ports: [{ containerPort: 8080 }],
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
    livenessProbe: { httpGet: { path: "/health", port: 8080 } },
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
    resources: {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { memory: "256Mi" },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
  };
}

export function compliantPodSpec(app: string): V1PodSpec {
  return {
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": app } },
      },
    ],
    containers: [compliantContainer()],
  };
}

function template(app: string): V1PodTemplateSpec {
  return { metadata: { labels: { "app.kubernetes.io/name": app } }, spec: compliantPodSpec(app) };
}

export function compliantPod(name: string, namespace: string): V1Pod {
  const spec = compliantPodSpec(name);
  // A lone pod has nothing to spread from.
  delete spec.topologySpreadConstraints;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
    spec,
  };
}

export function compliantDeployment(name: string, namespace: string): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: template(name),
    },
  };
}

export function compliantCronJob(name: string, namespace: string): V1CronJob {
  const jobTemplate = template(name);
  if (jobTemplate.spec) {
    jobTemplate.spec.restartPolicy = "OnFailure";
    delete jobTemplate.spec.topologySpreadConstraints;
  }
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
    spec: {
      schedule: "0 3 * * *",
      jobTemplate: { spec: { template: jobTemplate } },
    },
  };
}

type Workload = V1Pod | V1Deployment | V1CronJob;

/** The pod spec of a Pod, Deployment or CronJob. */
export function podSpecOf(workload: Workload): V1PodSpec {
  const spec =
    workload.kind === "Pod"
      ? (workload as V1Pod).spec
      : workload.kind === "CronJob"
        ? (workload as V1CronJob).spec?.jobTemplate.spec?.template.spec
        : (workload as V1Deployment).spec?.template.spec;
  if (!spec) throw new Error(`${workload.kind} has no pod spec`);
  return spec;
}

/** The first container of a workload, to break in one way. */
export function containerOf(workload: Workload): V1Container {
  const first = podSpecOf(workload).containers[0];
  if (!first) throw new Error(`${workload.kind} has no container`);
  return first;
}

/** Copies a workload and changes its first container. */
export function withContainer<T extends Workload>(
  workload: T,
  change: (c: V1Container) => void,
): T {
  const copy = structuredClone(workload);
  change(containerOf(copy));
  return copy;
}

/** Copies a workload and changes its pod spec. */
export function withPodSpec<T extends Workload>(workload: T, change: (spec: V1PodSpec) => void): T {
  const copy = structuredClone(workload);
  change(podSpecOf(copy));
  return copy;
}

/**
 * Privileged. The API server itself refuses privileged: true next to
 * allowPrivilegeEscalation: false, so that field goes (and privilege-escalation
 * reports it too).
 */
export function privileged<T extends Workload>(workload: T): T {
  return withContainer(workload, (c) => {
    c.securityContext = { ...c.securityContext, privileged: true };
    delete c.securityContext.allowPrivilegeEscalation;
  });
}
