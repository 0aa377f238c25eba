// Minimal structural types for the Kubernetes objects the policies read.
// They are deliberately loose: admission requests carry whatever the user
// sent, so every field is optional and checks must tolerate wrong shapes.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; controller?: boolean }[];
  deletionTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/**
 * A field the types call a string, or undefined when the client sent
 * anything else: a number or an object must not reach a string template (an
 * object whose toString key is not a function throws there).
 */
export function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export interface SeccompProfile {
  type?: string;
  localhostProfile?: string;
}

export interface AppArmorProfile {
  type?: string;
  localhostProfile?: string;
}

export interface WindowsOptions {
  hostProcess?: boolean;
  gmsaCredentialSpecName?: string;
  runAsUserName?: string;
}

export interface SeLinuxOptions {
  type?: string;
  user?: string;
  role?: string;
  level?: string;
}

export interface SecurityContext {
  privileged?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: SeccompProfile;
  appArmorProfile?: AppArmorProfile;
  seLinuxOptions?: SeLinuxOptions;
  windowsOptions?: WindowsOptions;
  procMount?: string;
}

export interface PodSecurityContext extends SecurityContext {
  fsGroup?: number;
  supplementalGroups?: number[];
  sysctls?: { name?: string; value?: string }[];
}

export interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key?: string };
    configMapKeyRef?: { name?: string; key?: string };
    fieldRef?: unknown;
    resourceFieldRef?: unknown;
  };
}

export interface Probe {
  exec?: unknown;
  httpGet?: unknown;
  tcpSocket?: unknown;
  grpc?: unknown;
}

export interface Container {
  name?: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  ports?: { containerPort?: number; hostPort?: number; protocol?: string; name?: string }[];
  env?: EnvVar[];
  resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  securityContext?: SecurityContext;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: unknown; postStart?: unknown };
  restartPolicy?: string;
}

export interface Volume {
  name?: string;
  hostPath?: { path?: string; type?: string };
  csi?: { driver?: string };
  secret?: unknown;
  [source: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  securityContext?: PodSecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  volumes?: Volume[];
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: unknown[];
      preferredDuringSchedulingIgnoredDuringExecution?: unknown[];
    };
  };
  topologySpreadConstraints?: { topologyKey?: string }[];
  os?: { name?: string };
  nodeSelector?: Record<string, string>;
}
