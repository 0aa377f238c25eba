import { z } from "zod";
import {
  ACTIONS,
  CHECKLIST_COVERAGES,
  OPERATIONS,
  POLICY_TYPES,
  SEVERITIES,
  WORKLOAD_FILTERS,
} from "../engine/index.js";
import { NAMESPACE_MODES } from "../server/namespace-mode.js";
import { celPolicySchema } from "./cel-policies.js";
import {
  exceptionSettingsShape,
  exemptionsSchema as exemptions,
  globalExemptionsSchema,
} from "./exemptions.js";
import { workloadKindsSchema } from "./workload-kinds.js";

const names = z.array(z.string().min(1));

const checklistRef = { section: z.string(), item: z.string() };

/**
 * One checklist item a policy judges: `coverage` (full unless it judges one
 * proxy of a wider practice) and, for a policy judging several items, the
 * `part` (a boolean parameter) each is.
 */
const checklistMapping = z
  .object({
    ...checklistRef,
    coverage: z.enum(CHECKLIST_COVERAGES).default("full"),
    part: z.string().min(1).optional(),
  })
  .strict();

/** The fields every declared check has: policies and cluster checks alike. */
export const checkDeclarationShape = {
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lower-case words joined by hyphens"),
  title: z.string().min(1),
  description: z.string().min(1),
  checklist: z.object(checklistRef).strict(),
  severity: z.enum(SEVERITIES),
  parameters: z.record(z.string(), z.unknown()).default({}),
};

/** The data half of a policy: `policies/<id>/policy.yaml`. */
export const declarationSchema = z
  .object({
    ...checkDeclarationShape,
    /** One item, or a list when the policy judges several (its parts). */
    checklist: z
      .union([checklistMapping, z.array(checklistMapping).min(1)])
      .transform((c) => (Array.isArray(c) ? c : [c])),
    type: z.enum(POLICY_TYPES),
    action: z.enum(ACTIONS).default("audit"),
    enabled: z.boolean().default(true),
    match: z
      .object({
        kinds: z.array(z.string().min(1)).min(1).optional(),
        operations: z.array(z.enum(OPERATIONS)).min(1).default(["CREATE", "UPDATE"]),
        namespaces: names.default([]),
        workloads: z.enum(WORKLOAD_FILTERS).default("all"),
      })
      .strict()
      .default({ operations: ["CREATE", "UPDATE"], namespaces: [], workloads: "all" }),
    exemptions: exemptions.default({ namespaces: [], names: [], images: [] }),
    /**
     * Policies that report the same fault on the same field (capabilities-minimal
     * and capabilities on one added capability): such findings are reported once.
     */
    sameFaultAs: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type RawDeclaration = z.infer<typeof declarationSchema>;

const policyOverride = z
  .object({
    enabled: z.boolean().optional(),
    action: z.enum(ACTIONS).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    match: z.object({ namespaces: names.optional() }).strict().optional(),
    exemptions: exemptions.partial().optional(),
  })
  .strict();

/** The file a user edits: the whole policy set plus the webhook's modes. */
export const policySetSchema = z
  .object({
    apiVersion: z.literal("tollgate.dev/v1alpha1"),
    kind: z.literal("PolicySet"),
    defaultMode: z.enum(NAMESPACE_MODES).default("enforce"),
    modeLabel: z.string().min(1).default("tollgate.dev/mode"),
    tollgateNamespace: z.string().min(1).default("tollgate-system"),
    exemptions: globalExemptionsSchema,
    ...exceptionSettingsShape,
    policies: z.record(z.string(), policyOverride).default({}),
    /** The platform team's own policies in CEL (docs/cel.md). */
    celPolicies: z.array(celPolicySchema).default([]),
    /** Files of CEL policies (YAML lists), relative to the PolicySet file. */
    celPolicyFiles: z.array(z.string().min(1)).default([]),
    /** Kinds beyond the built-in workloads with a pod template (default: Argo Rollouts). */
    workloadKinds: workloadKindsSchema,
  })
  .strict();

export type PolicySetFile = z.infer<typeof policySetSchema>;
