// The CEL form of a built-in policy, kept as data next to it in
// policies/<id>/vap.yaml: either the validations a ValidatingAdmissionPolicy
// needs to judge exactly what the policy judges, or the one-line reason no
// such form exists. `tollgate policies -o vap` reads them.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { parseYamlFile, readTextFile } from "../policyset/declarations.js";
import { parseOrThrow } from "../policyset/errors.js";

const named = z
  .object({ name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), expression: z.string().min(1) })
  .strict();

const exact = z
  .object({
    /**
     * After the exporter's own (`spec`, `containers`, `podMetadata` for pod
     * policies); `params.<name>` in any expression is replaced by the
     * parameter's value from the PolicySet.
     */
    variables: z.array(named).default([]),
    validations: z
      .array(z.object({ expression: z.string().min(1), message: z.string().min(1) }).strict())
      .min(1),
    /**
     * Parameters the form compares with `in`: exact only while their entries
     * are plain values, so a glob in one makes the policy not exportable.
     */
    literalParameters: z.array(z.string()).default([]),
  })
  .strict();

const inexact = z
  .object({
    /** One line: why no ValidatingAdmissionPolicy can judge what the policy judges. */
    notExpressible: z
      .string()
      .min(1)
      .refine((text) => !text.includes("\n"), "must be one line"),
  })
  .strict();

export type ExactForm = z.infer<typeof exact>;
export type VapForm = ExactForm | z.infer<typeof inexact>;

export const VAP_FORM_FILE = "vap.yaml";

const formSchema = z.union([exact, inexact]);

/** The form next to a policy's policy.yaml, or undefined when the policy has none. */
export function readVapForm(policyFile: string): VapForm | undefined {
  const file = join(dirname(policyFile), VAP_FORM_FILE);
  if (!existsSync(file)) return undefined;
  return parseOrThrow(formSchema, parseYamlFile(readTextFile(file), file), file);
}
