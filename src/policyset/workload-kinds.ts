// The PolicySet's `workloadKinds`: kinds beyond the built-in workloads whose
// objects carry a pod template, so that the pod policies judge them too.
import { z } from "zod";
import { WORKLOAD_KINDS, type WorkloadKind } from "../engine/index.js";

/** Argo Rollouts: a Rollout keeps its pod template where a Deployment does. */
export const DEFAULT_WORKLOAD_KINDS = [
  {
    group: "argoproj.io",
    kind: "Rollout",
    resource: "rollouts",
    versions: ["v1alpha1"],
    podTemplate: "spec.template",
  },
];

const entry = z
  .object({
    group: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, "must be an API group such as argoproj.io"),
    kind: z
      .string()
      .regex(/^[A-Z][A-Za-z0-9]*$/, "must be a kind such as Rollout")
      .refine((kind) => !WORKLOAD_KINDS.includes(kind), {
        message: "is a built-in workload kind; Tollgate already knows where its pod template is",
      }),
    resource: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be the plural resource name, such as rollouts"),
    versions: z.array(z.string().regex(/^v[0-9a-z]+$/, "must be a version such as v1")).default([]),
    podTemplate: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
        "must be the dotted path to the pod template, such as spec.template",
      ),
  })
  .strict();

export const workloadKindsSchema = z.array(entry).default(DEFAULT_WORKLOAD_KINDS);

export type WorkloadKindEntry = z.infer<typeof entry>;

/** The engine's form of one entry: the template path split into keys. */
export function toWorkloadKind(raw: WorkloadKindEntry): WorkloadKind {
  return { ...raw, podTemplate: raw.podTemplate.split(".") };
}
