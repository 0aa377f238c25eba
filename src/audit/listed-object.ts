import type { ControllerRef, KubeObject } from "../engine/index.js";
import { CLUSTER_BUCKET } from "./tally.js";
import type { AuditFinding, AuditResourceRef } from "./types.js";

/** One object of a list page, with what decides how it is audited and reported. */
export interface ListedObject {
  object: KubeObject;
  kind: string;
  ref: AuditResourceRef;
  /** The object's namespace, or its own name for a Namespace; unset for cluster-scoped kinds. */
  home: string | undefined;
  /** Whether `home` is a namespace the policy set exempts. */
  exempt: boolean;
  /** Whether `home` is being deleted: nothing in it is audited. */
  deleting: boolean;
  /** The controller that owns the object, if any. */
  owner: ControllerRef | undefined;
}

/**
 * The tally bucket for a finding of `scope` about the object: its namespace,
 * or the cluster bucket for cluster-scoped findings and objects, and for
 * exempt namespaces, which get no report of their own.
 */
export function bucketOf(listed: ListedObject, scope: AuditFinding["scope"]): string {
  return scope === "cluster" || listed.home === undefined || listed.exempt
    ? CLUSTER_BUCKET
    : listed.home;
}
