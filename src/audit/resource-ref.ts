import type { KubeObject } from "../engine/index.js";
import type { KindInfo } from "./kinds.js";
import type { AuditResourceRef } from "./types.js";

/** The reference a finding carries for a listed object. */
export function refOf(object: KubeObject, info: KindInfo): AuditResourceRef {
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
