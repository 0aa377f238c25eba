import type { KubeObject } from "./kube.js";
import type { AdmissionInput, Violation } from "./types.js";

/**
 * The built-in controllers that copy a pod template from an owner into a child
 * they create: the owner's kind, its API group, the child kind it writes, and
 * the service account kube-controller-manager runs that controller as (with
 * `--use-service-account-credentials`, the default of kubeadm and managed
 * clusters).
 */
export const CONTROLLERS: Readonly<
  Record<string, { group: string; child: readonly string[]; serviceAccount: string }>
> = {
  Deployment: { group: "apps", child: ["ReplicaSet"], serviceAccount: "deployment-controller" },
  ReplicaSet: { group: "apps", child: ["Pod"], serviceAccount: "replicaset-controller" },
  StatefulSet: { group: "apps", child: ["Pod"], serviceAccount: "statefulset-controller" },
  DaemonSet: { group: "apps", child: ["Pod"], serviceAccount: "daemon-set-controller" },
  ReplicationController: { group: "", child: ["Pod"], serviceAccount: "replication-controller" },
  CronJob: { group: "batch", child: ["Job"], serviceAccount: "cronjob-controller" },
  Job: { group: "batch", child: ["Pod"], serviceAccount: "job-controller" },
};

/** kube-controller-manager's own identity, when it runs without per-controller credentials. */
export const CONTROLLER_MANAGER_USER = "system:kube-controller-manager";

/** The username of the service account a built-in controller runs as. */
export function controllerServiceAccount(ownerKind: string): string | undefined {
  const controller = CONTROLLERS[ownerKind];
  return controller && `system:serviceaccount:kube-system:${controller.serviceAccount}`;
}

/** The owner whose built-in controller wrote this request's object. */
export interface ControllerOwner {
  kind: string;
  name: string;
}

/** An owner reference marked `controller: true`, as the object states it. */
export interface ControllerRef {
  kind: string;
  name?: unknown;
  apiVersion?: unknown;
}

/**
 * The object's controller: its owner reference marked `controller: true`
 * (the API server allows one), or undefined when nothing controls it.
 */
export function controllerOf(object: KubeObject | undefined): ControllerRef | undefined {
  const owners: unknown = object?.metadata?.ownerReferences;
  if (!Array.isArray(owners)) return undefined;
  const owner = owners.find((ref) => ref?.controller === true);
  return typeof owner?.kind === "string" ? owner : undefined;
}

function groupOf(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== "string") return undefined;
  const slash = apiVersion.indexOf("/");
  return slash >= 0 ? apiVersion.slice(0, slash) : "";
}

/**
 * The owner of an object that a built-in controller is writing from that
 * owner's pod template, or undefined when the request is anything else. All
 * of these must hold: the object names a controller owner of a kind whose
 * controller creates objects of this kind (a ReplicaSet of a Deployment, a Pod
 * of a ReplicaSet, StatefulSet, DaemonSet, Job or ReplicationController, a Job
 * of a CronJob), and the request comes from that controller's service account
 * or from kube-controller-manager itself. A user who creates a Pod naming a
 * ReplicaSet as its owner is not that controller.
 */
export function controllerOwnerOf(input: AdmissionInput): ControllerOwner | undefined {
  if (input.operation !== "CREATE" && input.operation !== "UPDATE") return undefined;
  const username = input.userInfo?.username;
  if (!username) return undefined;
  const owner = controllerOf(input.object);
  if (!owner || typeof owner.name !== "string") return undefined;
  const controller = CONTROLLERS[owner.kind];
  if (!controller || groupOf(owner.apiVersion) !== controller.group) return undefined;
  if (!controller.child.includes(input.kind.kind)) return undefined;
  if (username !== CONTROLLER_MANAGER_USER && username !== controllerServiceAccount(owner.kind)) {
    return undefined;
  }
  return { kind: owner.kind, name: owner.name };
}

/**
 * A violation found in what a controller copied from its owner, turned into a
 * warning: the owner carries the same pod template and was judged by this
 * policy when it was written, so that is where Tollgate denies. Denying the
 * copy only stalls the controller (a rollout, or pods replaced on a drain),
 * and no user would read the denial.
 */
export function copiedFromOwner(violation: Violation, owner: ControllerOwner): Violation {
  return {
    ...violation,
    action: "warn",
    message: `${violation.message} (written by the ${owner.kind} controller from ${owner.kind} "${owner.name}", where this policy is enforced)`,
  };
}
