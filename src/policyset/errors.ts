import type { z } from "zod";

/** A policy file or policy set that cannot be used, with where the problem is. */
export class PolicyLoadError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${file}: ${field}: ${problem}` : `${file}: ${problem}`);
    this.name = "PolicyLoadError";
  }
}

/** `policies.trusted-registries.parameters.registries[0]` from a zod issue path. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Throws the first schema problem as a PolicyLoadError naming file and field. */
export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  value: unknown,
  file: string,
  fieldPrefix: readonly PropertyKey[] = [],
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [...fieldPrefix, ...(issue?.path ?? [])];
  throw new PolicyLoadError(file, fieldOf(path) || "(top level)", issue?.message ?? "invalid");
}
