import { describe, expect, it } from "vitest";
import {
  type AdmissionInput,
  compilePolicySet,
  controllerOf,
  controllerOwnerOf,
  evaluate,
  inputFromObject,
  type KubeObject,
  type Operation,
  type PolicySet,
} from "../../src/engine/index.js";
import { objectOf, onlyPolicies, shippedPolicies } from "../support/policies.js";

const DEPLOYMENT_CONTROLLER = "system:serviceaccount:kube-system:deployment-controller";
const REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller";

/** A privileged pod template, as a grandfathered Deployment would carry it. */
const template = `
    metadata: { labels: { app: web } }
    spec:
      automountServiceAccountToken: false
      containers:
        - name: app
          image: mcr.microsoft.com/app:1.0
          securityContext: { privileged: true }
`;

const replicaSet = objectOf(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f
  namespace: apps
  ownerReferences:
    - { apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:${template}`);

const pod = objectOf(`
apiVersion: v1
kind: Pod
metadata:
  generateName: web-5d8f-
  namespace: apps
  ownerReferences:
    - { apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: u2, controller: true }
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext: { privileged: true }
`);

function request(
  object: KubeObject,
  username: string | undefined,
  operation: Operation = "CREATE",
): AdmissionInput {
  const input = inputFromObject(object, {
    operation,
    oldObject: operation === "UPDATE" ? object : undefined,
  });
  return { ...input, userInfo: username === undefined ? undefined : { username } };
}

function judge(set: PolicySet, input: AdmissionInput) {
  return evaluate(input, set, { mode: "enforce", phase: "validate" });
}

/** `privileged` with its kinds replaced, to stand for a policy about some kinds only. */
function privilegedFor(kinds: string[]): PolicySet {
  const entries = shippedPolicies()
    .filter((p) => p.declaration.id === "privileged")
    .map((p) => ({
      ...p,
      declaration: { ...p.declaration, enabled: true, match: { ...p.declaration.match, kinds } },
    }));
  return compilePolicySet(entries, ["kube-system"]);
}

describe("objects a built-in controller writes from its owner", () => {
  const set = onlyPolicies(["privileged"]);

  it("admits a Deployment's new ReplicaSet with what the Deployment already had, as a warning", () => {
    const verdict = judge(set, request(replicaSet, DEPLOYMENT_CONTROLLER));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations).toHaveLength(1);
    expect(verdict.violations[0]).toMatchObject({ policy: "privileged", action: "warn" });
    expect(verdict.warnings[0]).toContain(
      'written by the Deployment controller from Deployment "web", where this policy is enforced',
    );
    expect(verdict.auditAnnotations.privileged).toContain("written by the Deployment controller");
  });

  it("admits the ReplicaSet's Pods, so a drain can replace them", () => {
    const verdict = judge(set, request(pod, REPLICASET_CONTROLLER));
    expect(verdict.allowed).toBe(true);
    expect(verdict.warnings[0]).toContain('from ReplicaSet "web-5d8f"');
  });

  it("admits them from kube-controller-manager's own identity too", () => {
    expect(judge(set, request(pod, "system:kube-controller-manager")).allowed).toBe(true);
  });

  it("denies the same objects created by anyone else, whatever owner they name", () => {
    for (const username of [undefined, "alice", "system:serviceaccount:apps:deployer"]) {
      expect(judge(set, request(replicaSet, username)).allowed).toBe(false);
      expect(judge(set, request(pod, username)).allowed).toBe(false);
    }
  });

  it("denies a child written by the service account of another controller", () => {
    // The ReplicaSet controller never creates ReplicaSets; the Deployment controller never Pods.
    expect(judge(set, request(replicaSet, REPLICASET_CONTROLLER)).allowed).toBe(false);
    expect(judge(set, request(pod, DEPLOYMENT_CONTROLLER)).allowed).toBe(false);
  });

  it("denies when the owner is not a built-in kind of the right group, or not the controller", () => {
    const foreign = structuredClone(pod);
    const [ref] = foreign.metadata?.ownerReferences ?? [];
    if (ref) ref.apiVersion = "example.com/v1";
    expect(judge(set, request(foreign, REPLICASET_CONTROLLER)).allowed).toBe(false);
    const notController = structuredClone(pod);
    const [other] = notController.metadata?.ownerReferences ?? [];
    if (other) other.controller = false;
    expect(judge(set, request(notController, REPLICASET_CONTROLLER)).allowed).toBe(false);
  });

  it("keeps denying for a policy that does not cover the owner's kind", () => {
    // A policy about Pods only never judged the ReplicaSet: the Pod is where it denies.
    const podsOnly = privilegedFor(["Pod"]);
    const verdict = judge(podsOnly, request(pod, REPLICASET_CONTROLLER));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations[0]?.action).toBe("deny");
    expect(
      judge(privilegedFor(["Pod", "ReplicaSet"]), request(pod, REPLICASET_CONTROLLER)),
    ).toEqual(expect.objectContaining({ allowed: true }));
  });

  it("admits the controller's UPDATEs (scaling the ReplicaSet) and still mutates its Pods", () => {
    const scaled = judge(set, request(replicaSet, DEPLOYMENT_CONTROLLER, "UPDATE"));
    expect(scaled.allowed).toBe(true);
    const mutating = onlyPolicies(["privileged", "security-defaults"]);
    const input = request(pod, REPLICASET_CONTROLLER);
    const mutated = evaluate(input, mutating, { mode: "enforce", phase: "mutate" });
    expect(mutated.mutatedBy).toContain("security-defaults");
    expect(evaluate(input, mutating, { mode: "enforce", phase: "both" }).allowed).toBe(true);
  });

  it("never touches DELETE or CONNECT, nor objects without a controller owner", () => {
    expect(controllerOwnerOf(request(pod, REPLICASET_CONTROLLER, "DELETE"))).toBeUndefined();
    const orphan = structuredClone(pod);
    if (orphan.metadata) delete orphan.metadata.ownerReferences;
    expect(controllerOwnerOf(request(orphan, REPLICASET_CONTROLLER))).toBeUndefined();
    expect(controllerOwnerOf(request(pod, REPLICASET_CONTROLLER))).toEqual({
      kind: "ReplicaSet",
      name: "web-5d8f",
    });
  });

  it("covers every built-in controller that copies a pod template", () => {
    const cases: [string, string, string, string][] = [
      ["apps/v1", "StatefulSet", "Pod", "statefulset-controller"],
      ["apps/v1", "DaemonSet", "Pod", "daemon-set-controller"],
      ["batch/v1", "Job", "Pod", "job-controller"],
      ["batch/v1", "CronJob", "Job", "cronjob-controller"],
      ["v1", "ReplicationController", "Pod", "replication-controller"],
    ];
    for (const [apiVersion, ownerKind, childKind, account] of cases) {
      const child: KubeObject = {
        apiVersion: childKind === "Job" ? "batch/v1" : "v1",
        kind: childKind,
        metadata: {
          name: "c",
          namespace: "apps",
          ownerReferences: [{ apiVersion, kind: ownerKind, name: "o", controller: true }],
        },
      };
      const input = request(child, `system:serviceaccount:kube-system:${account}`);
      expect(controllerOwnerOf(input), `${ownerKind} → ${childKind}`).toEqual({
        kind: ownerKind,
        name: "o",
      });
    }
  });
});

describe("controllerOf", () => {
  const owned = (ownerReferences: unknown): KubeObject =>
    ({ metadata: { name: "x", ownerReferences } }) as KubeObject;

  it("finds the owner reference marked controller, not the other owners", () => {
    const refs = [
      { apiVersion: "v1", kind: "ConfigMap", name: "c" },
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", controller: true },
    ];
    expect(controllerOf(owned(refs))).toMatchObject({ kind: "ReplicaSet", name: "web-1" });
  });

  it("finds none without a controller reference or with a malformed one", () => {
    expect(controllerOf(owned(undefined))).toBeUndefined();
    expect(controllerOf(owned([{ kind: "ReplicaSet", name: "a" }]))).toBeUndefined();
    expect(controllerOf(owned([{ controller: true, name: "a" }]))).toBeUndefined();
    expect(controllerOf(owned("not a list"))).toBeUndefined();
    expect(controllerOf(undefined)).toBeUndefined();
  });
});
