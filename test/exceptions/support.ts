import { type PolicyException, parseException } from "../../src/exceptions/index.js";

/** A PolicyException object as kubectl would apply it, with overrides of its spec. */
export function exceptionObject(
  spec: Record<string, unknown> = {},
  meta: { name?: string; namespace?: string } = {},
): Record<string, unknown> {
  return {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PolicyException",
    metadata: { name: meta.name ?? "csi-node", namespace: meta.namespace ?? "storage" },
    spec: {
      policies: ["privileged", "host-path"],
      reason: "CSI node plugin mounts host paths and needs privileges",
      ...spec,
    },
  };
}

/** Parses an exception object, failing the test when it is invalid. */
export function exception(
  spec: Record<string, unknown> = {},
  meta: { name?: string; namespace?: string } = {},
): PolicyException {
  const parsed = parseException(exceptionObject(spec, meta));
  if (!parsed.ok) throw new Error(`invalid test exception: ${parsed.problem.message}`);
  return parsed.exception;
}
