import { z } from "zod";
import {
  type ContainerTarget,
  containersOf,
  definePolicy,
  type EnvVar,
  type Finding,
} from "../../src/engine/index.js";

function compiles(source: string): boolean {
  try {
    new RegExp(source, "i");
    return true;
  } catch {
    return false;
  }
}

const patterns = z.array(
  z.string().min(1).refine(compiles, { message: "is not a valid regular expression" }),
);

const compiled = new Map<string, RegExp>();

/** Case-insensitive and unanchored, so `TOKEN` matches `GITHUB_TOKEN`. */
function regexOf(source: string): RegExp {
  let regex = compiled.get(source);
  if (!regex) {
    regex = new RegExp(source, "i");
    compiled.set(source, regex);
  }
  return regex;
}

function matchesAny(sources: readonly string[], name: string): boolean {
  return sources.some((source) => regexOf(source).test(name));
}

/**
 * Values that are credentials whatever the variable is called. Each keyed
 * form skips `$(VAR)`, which Kubernetes fills in from another variable.
 */
const CREDENTIAL_VALUES: readonly { what: string; pattern: RegExp }[] = [
  { what: "a PEM private key", pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/ },
  {
    what: "an Azure connection string carrying an account or shared access key",
    pattern: /(?:^|;)\s*(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?!\$\()[^;\s]/i,
  },
  { what: "an Azure shared access signature", pattern: /[?&]sig=(?!\$\()[^&\s]{8,}/i },
  {
    what: "a connection string with a password",
    pattern: /(?:^|;)\s*(?:Password|Pwd)\s*=\s*(?!\$\()[^;\s]/i,
  },
  {
    what: "a URL with a password in it",
    pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:(?!\$\()[^\s/@]+@/i,
  },
];

/** `$(NAME)` anywhere: the sensitive part comes from another, checkable variable. */
const REFERENCE = /\$\([^()\s]+\)/;

const FIX =
  "move it to a Kubernetes Secret read through valueFrom.secretKeyRef, or mount it from Azure Key Vault with the Secrets Store CSI driver";

function check(
  env: EnvVar,
  params: { namePatterns: string[]; ignoredNamePatterns: string[] },
): string | undefined {
  const value = env.value;
  if (typeof value !== "string" || value === "") return undefined;
  // The message names what the value looks like, never the value itself.
  const credential = CREDENTIAL_VALUES.find((c) => c.pattern.test(value));
  if (credential) return `sets a literal value that looks like ${credential.what}`;
  const name = typeof env.name === "string" ? env.name : "";
  if (
    matchesAny(params.namePatterns, name) &&
    !matchesAny(params.ignoredNamePatterns, name) &&
    !REFERENCE.test(value)
  ) {
    return "has a secret-looking name and a literal value";
  }
  return undefined;
}

function envFindings(
  c: ContainerTarget,
  params: { namePatterns: string[]; ignoredNamePatterns: string[] },
): Finding[] {
  const env = c.container.env;
  if (!Array.isArray(env)) return [];
  const findings: Finding[] = [];
  env.forEach((entry, index) => {
    if (entry === null || typeof entry !== "object") return;
    const problem = check(entry, params);
    if (!problem) return;
    const name = typeof entry.name === "string" ? entry.name : `#${index}`;
    findings.push({
      message: `env "${name}" ${problem}, visible to anyone who can read this object; ${FIX}`,
      path: [...c.path, "env", index, "value"],
      container: c,
    });
  });
  return findings;
}

export default definePolicy({
  id: "secret-env",
  scope: "pod",
  parameters: z
    .object({
      namePatterns: patterns,
      ignoredNamePatterns: patterns,
    })
    .strict(),
  validate(pod, params) {
    return containersOf(pod).flatMap((c) => envFindings(c, params));
  },
});
