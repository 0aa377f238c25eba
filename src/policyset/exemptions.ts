// The exemption and exception parts of the PolicySet schema, kept apart from
// the rest of schema.ts: who and what may bypass enforcement, and where
// PolicyExceptions are honoured.
import { z } from "zod";

const globs = z.array(z.string().min(1));

/**
 * A name exemption must say its namespace: a bare `csi-node` would exempt an
 * object of that name in every namespace, so anyone could bypass the policy
 * by naming a Deployment `csi-node`.
 */
export const nameGlob = z.string().superRefine((value, ctx) => {
  const slash = value.indexOf("/");
  if (slash > 0 && slash < value.length - 1 && !value.includes("/", slash + 1)) return;
  const name = value.replace(/^\/+|\/+$/g, "") || "NAME";
  ctx.addIssue({
    code: "custom",
    message: `"${value}" must be a namespace/name glob: a bare name would exempt that name in every namespace; write "<namespace>/${name}" (or "*/${name}" if every namespace really is meant)`,
  });
});

/** Everything the policy set may exempt from one policy or all of them. */
export const exemptionsSchema = z
  .object({
    namespaces: globs.default([]),
    names: z.array(nameGlob).default([]),
    images: globs.default([]),
  })
  .strict();

/**
 * Users, groups and ServiceAccounts (`namespace/name`), each an exact name or
 * a glob, as the API server names them in `request.userInfo`.
 */
export const subjectsSchema = z
  .object({
    users: globs.default([]),
    groups: globs.default([]),
    serviceAccounts: z
      .array(
        z
          .string()
          .regex(/^[^/]+\/[^/]+$/, "must be namespace/name, e.g. flux-system/kustomize-controller"),
      )
      .default([]),
  })
  .strict();

export type SubjectsFile = z.infer<typeof subjectsSchema>;

const NO_SUBJECTS: SubjectsFile = { users: [], groups: [], serviceAccounts: [] };

/** The PolicySet's own `exemptions`: also subjects, whose requests are admitted unchecked and recorded (break-glass). */
export const globalExemptionsSchema = exemptionsSchema
  .extend({ subjects: subjectsSchema.default(NO_SUBJECTS) })
  .default({ namespaces: [], names: [], images: [], subjects: NO_SUBJECTS });

/** The other top-level keys this block adds to the PolicySet. */
export const exceptionSettingsShape = {
  /** Deny adding, changing or removing the mode label, except for modeLabelEditors. */
  protectModeLabel: z.boolean().default(false),
  modeLabelEditors: subjectsSchema.default(NO_SUBJECTS),
  /** Namespaces whose PolicyExceptions are honoured (globs; default every namespace). */
  exceptionNamespaces: globs.default(["*"]),
};
