import { type KubeObject, stringField } from "./kube.js";
import { withoutNulls } from "./nulls.js";
import type { AdmissionInput, GroupVersionKind, Operation } from "./types.js";

export function groupVersionKindOf(object: KubeObject): GroupVersionKind {
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  const slash = apiVersion.indexOf("/");
  return {
    group: slash >= 0 ? apiVersion.slice(0, slash) : "",
    version: slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion,
    kind: typeof object.kind === "string" ? object.kind : "",
  };
}

/**
 * The admission request the API server would send for this object, so that
 * the CLI and audits evaluate exactly what the webhook would: fields set to
 * null are unset, as the API server has them after decoding.
 */
export function inputFromObject(
  written: KubeObject,
  options: { operation?: Operation; namespace?: string | undefined; oldObject?: KubeObject } = {},
): AdmissionInput {
  const object = withoutNulls(written);
  const namespace = stringField(object.metadata?.namespace) ?? options.namespace;
  return {
    operation: options.operation ?? "CREATE",
    kind: groupVersionKindOf(object),
    namespace,
    name: stringField(object.metadata?.name),
    object,
    oldObject: options.oldObject && withoutNulls(options.oldObject),
    dryRun: false,
    userInfo: undefined,
  };
}
