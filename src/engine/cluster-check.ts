import type { z } from "zod";
import type { KubeObject } from "./kube.js";
import type { ChecklistRef, Severity } from "./types.js";

/** The API server's /version, as far as the checks read it. */
export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
}

/** The object an outcome is about, as a report names it. */
export interface CheckSubject {
  apiVersion: string;
  kind: string;
  /** Unset for cluster-scoped objects. */
  namespace?: string | undefined;
  name: string;
  uid?: string | undefined;
}

/** What one object of an audited (not exempt) namespace told a check. */
export interface Observation<F> {
  namespace: string;
  subject: CheckSubject;
  fact: F;
}

/** Everything a cluster check judges: collected once the whole listing is done. */
export interface ClusterFacts<F> {
  /** Audited namespaces (exempt ones and those being deleted left out), sorted. */
  namespaces: readonly string[];
  /** What `observe` returned, in listing order. */
  observed: readonly Observation<F>[];
  /** Undefined when the server would not say. */
  serverVersion: ServerVersion | undefined;
}

/**
 * One judgement of a check. A `pass` or `fail` is about `subject` (a
 * Namespace, a workload), or the cluster as a whole when it is unset;
 * `unknown` says the check could not judge at all, which is neither.
 */
export type CheckOutcome =
  | { status: "pass"; subject?: CheckSubject | undefined; message?: string | undefined }
  | {
      status: "fail";
      subject?: CheckSubject | undefined;
      /** What is wrong and how to fix it, without the subject's name (the audit adds it). */
      message: string;
      path?: string | undefined;
    }
  | { status: "unknown"; message: string };

/**
 * The code half of a cluster check (the data half is its check.yaml): what
 * it wants to know of each listed object, and a pure judgement over all of
 * it. Checks need several objects at once, which is what sets them apart
 * from policies.
 */
export interface ClusterCheckModule<P = unknown, F = unknown> {
  id: string;
  /** Validates `parameters` from check.yaml. */
  parameters: z.ZodType<P>;
  /** Kinds whose objects `observe` is shown; the audit lists them whatever the policies match. */
  observes: readonly string[];
  /** The small fact an object contributes, or undefined when it tells nothing. */
  observe?: (object: KubeObject, kind: string) => F | undefined;
  judge: (facts: ClusterFacts<F>, parameters: P) => CheckOutcome[];
}

/**
 * Where a check's findings are reported: `namespace` to the subject's
 * namespace report, `cluster` to the ClusterPolicyReport. The one statement
 * of the union: check.yaml's schema, the audit's findings and the dashboard's
 * reader of audit JSON are derived from it.
 */
export const CHECK_SCOPES = ["namespace", "cluster"] as const;
export type CheckScope = (typeof CHECK_SCOPES)[number];

/** The data half: `policies/cluster/<id>/check.yaml`, with the policies' fields. */
export interface ClusterCheckDeclaration {
  id: string;
  title: string;
  description: string;
  checklist: ChecklistRef;
  severity: Severity;
  /** `cluster` findings go to the ClusterPolicyReport, `namespace` ones to their namespace. */
  scope: CheckScope;
  parameters: unknown;
}

/**
 * Checks a cluster check's functions against its own parameter schema and
 * fact type, then erases both so that checks fit in one registry. The loader
 * validates parameters with that schema before `judge` runs.
 */
export function defineClusterCheck<S extends z.ZodType, F>(module: {
  id: string;
  parameters: S;
  observes?: readonly string[];
  observe?: (object: KubeObject, kind: string) => F | undefined;
  judge: (facts: ClusterFacts<F>, parameters: z.infer<S>) => CheckOutcome[];
}): ClusterCheckModule {
  return { observes: [], ...module } as unknown as ClusterCheckModule;
}
