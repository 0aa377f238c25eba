import { z } from "zod";

export const EXCEPTION_API_VERSION = "tollgate.dev/v1alpha1";
export const EXCEPTION_KIND = "PolicyException";

/**
 * RFC 3339 date-time, as the CRD's `format: date-time` accepts it: a date, a
 * time with optional fraction, and `Z` or an offset.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A calendar date and clock time that exist: Date.parse would roll 30 February over. */
function realTime(value: string): boolean {
  const [, y, mo, d, h, mi, s] = (RFC3339.exec(value) ?? []).map(Number);
  if (y === undefined || mo === undefined || d === undefined) return false;
  const day = new Date(Date.UTC(y, mo - 1, d));
  return (
    day.getUTCMonth() === mo - 1 &&
    day.getUTCDate() === d &&
    (h ?? 99) < 24 &&
    (mi ?? 99) < 60 &&
    (s ?? 99) < 61 &&
    !Number.isNaN(Date.parse(value))
  );
}

const expires = z
  .string()
  .regex(RFC3339, "must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
  .refine(realTime, "is not a real date and time");

const requirement = z
  .object({
    key: z.string().min(1),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).optional(),
  })
  .strict()
  .refine(
    (r) =>
      r.operator === "In" || r.operator === "NotIn"
        ? (r.values?.length ?? 0) > 0
        : (r.values?.length ?? 0) === 0,
    "In and NotIn need values; Exists and DoesNotExist take none",
  );

const selector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(requirement).optional(),
  })
  .strict();

const nonEmpty = z.array(z.string().min(1));

/** `spec` of a PolicyException, mirroring the CRD schema in deploy/crds/policyexceptions. */
export const exceptionSpecSchema = z
  .object({
    policies: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a policy id such as privileged"))
      .min(1),
    match: z
      .object({
        kinds: nonEmpty.optional(),
        names: nonEmpty.optional(),
        selector: selector.optional(),
      })
      .strict()
      .default({}),
    containers: nonEmpty.optional(),
    reason: z.string().trim().min(1, "is required: say why the exception exists"),
    expires: expires.optional(),
    approvedBy: z.string().optional(),
  })
  .strict();

export type ExceptionSpec = z.infer<typeof exceptionSpecSchema>;

/** The whole object; metadata is read for its namespace and name only. */
export const exceptionObjectSchema = z.object({
  apiVersion: z.literal(EXCEPTION_API_VERSION),
  kind: z.literal(EXCEPTION_KIND),
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().min(1, "is required: an exception covers its own namespace only"),
  }),
  spec: exceptionSpecSchema,
});
