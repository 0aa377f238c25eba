import {
  type AdmissionInput,
  inputFromObject,
  type KubeObject,
  type ResourceRef,
  resourceOf,
} from "../engine/index.js";

/**
 * Built-in kinds that live outside namespaces. Without a cluster to ask,
 * any other kind (custom resources included) is assumed to be namespaced.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "APIService",
  "CSIDriver",
  "CSINode",
  "CertificateSigningRequest",
  "ClusterRole",
  "ClusterRoleBinding",
  "ComponentStatus",
  "CustomResourceDefinition",
  "FlowSchema",
  "IngressClass",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "MutatingWebhookConfiguration",
  "Namespace",
  "Node",
  "PersistentVolume",
  "PodSecurityPolicy",
  "PriorityClass",
  "PriorityLevelConfiguration",
  "RuntimeClass",
  "SelfSubjectAccessReview",
  "SelfSubjectReview",
  "SelfSubjectRulesReview",
  "StorageClass",
  "SubjectAccessReview",
  "TokenReview",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ValidatingWebhookConfiguration",
  "VolumeAttachment",
]);

/**
 * The namespace the object is evaluated in: its own, else `--namespace` when
 * given (as `kubectl apply -n` would), else none — a manifest that leaves the
 * namespace to the deploy step is not judged as if it went to `default`.
 */
export function namespaceFor(
  object: KubeObject,
  defaultNamespace: string | undefined,
): string | undefined {
  if (typeof object.kind === "string" && CLUSTER_SCOPED_KINDS.has(object.kind)) {
    return object.metadata?.namespace;
  }
  return object.metadata?.namespace ?? defaultNamespace;
}

/** The CREATE request the API server would send for this object. */
export function admissionInputFor(
  object: KubeObject,
  defaultNamespace: string | undefined,
): AdmissionInput {
  return inputFromObject(object, {
    operation: "CREATE",
    namespace: namespaceFor(object, defaultNamespace),
  });
}

export function resourceFor(object: KubeObject, defaultNamespace: string | undefined): ResourceRef {
  return resourceOf(object, namespaceFor(object, defaultNamespace));
}

/** `Deployment web/frontend`, or `Namespace web` for cluster-scoped objects. */
export function resourceLabel(resource: ResourceRef): string {
  const name = resource.namespace ? `${resource.namespace}/${resource.name}` : resource.name;
  return `${resource.kind} ${name}`;
}
