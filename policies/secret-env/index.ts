import { z } from "zod";
import {
  type ContainerTarget,
  containersOf,
  definePolicy,
  type EnvVar,
  type Finding,
} from "../../src/engine/index.js";
import { harmlessValue } from "./values.js";

function compiles(source: string): boolean {
  try {
    new RegExp(source, "i");
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a group that holds a quantifier or an alternation is itself
 * repeated by `*`, `+` or `{…}`, as in `(a+)+`, `(.*)*`, `(\w+_?)+` or
 * `(a|ab)*`: the shapes that make a backtracking engine take exponential time
 * on a string that almost matches. A deliberately simple scan of the source,
 * not a full parser: it skips escapes and character classes and reads
 * `(?:`, `(?=`, `(?<name>` and the like as group openers, not quantifiers.
 */
export function repeatsQuantifiedGroup(source: string): boolean {
  // For each open group: whether it holds a quantifier or an alternation.
  const open: boolean[] = [];
  let risky = false;
  const mark = () => {
    if (open.length > 0) open[open.length - 1] = true;
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") {
      i++;
    } else if (ch === "[") {
      i++;
      if (source[i] === "^") i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
    } else if (ch === "(") {
      open.push(false);
      if (source[i + 1] === "?") i++;
    } else if (ch === ")") {
      const inner = open.pop() ?? false;
      const next = source[i + 1];
      const repeated = next === "*" || next === "+" || next === "{";
      if (inner && repeated) risky = true;
      if (inner || repeated || next === "?") mark();
    } else if (ch === "*" || ch === "+" || ch === "?" || ch === "{" || ch === "|") {
      mark();
    }
  }
  return risky;
}

const patterns = z.array(
  z
    .string()
    .min(1)
    .refine(compiles, { message: "is not a valid regular expression" })
    .refine((source) => !repeatsQuantifiedGroup(source), {
      message:
        "repeats a group that itself holds a quantifier or an alternation, like (a+)+ or (a|b)*, which can take exponential time; name patterns need no repeated groups: list each alternative as its own pattern",
    })
    .refine((source) => unboundedQuantifiers(source) <= 1, {
      message:
        "has more than one unbounded quantifier (*, + or {n,}); chains like \\w*\\w*X take polynomial time on a crafted name, and patterns are matched anywhere in the name already, so write e.g. API_?KEY instead of .*API.*KEY",
    }),
);

/** Counts `*`, `+` and `{n,}` outside escapes and character classes. */
export function unboundedQuantifiers(source: string): number {
  let count = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") {
      i++;
    } else if (ch === "[") {
      i++;
      if (source[i] === "^") i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
    } else if (ch === "*" || ch === "+") {
      count++;
    } else if (ch === "{" && /^\{\d+,\}/.test(source.slice(i))) {
      count++;
    }
  }
  return count;
}

/**
 * Env names longer than this are tested on their first this-many characters.
 * Real names are far shorter; the cap bounds what a user-written pattern can
 * cost on a crafted name, the patterns themselves being checked only for the
 * worst shapes (see repeatsQuantifiedGroup).
 */
const NAME_LIMIT = 256;

/**
 * A backreference by number or name, or a named group: joined into one
 * alternation, such a pattern could refer to another pattern's group (or
 * clash with its name), so a list holding one is tested pattern by pattern.
 */
const REFERS_TO_GROUPS = /\\[1-9k]|\(\?<(?![=!])/;

/**
 * Whether any of the patterns matches the name: case-insensitive and
 * unanchored, so `TOKEN` matches `GITHUB_TOKEN`. The patterns are joined into
 * one alternation, which matches exactly when one of them does and is one
 * regex run per name instead of one per pattern; each alternative costs what
 * it cost alone.
 */
function anyOf(sources: readonly string[]): (name: string) => boolean {
  if (sources.length === 0) return () => false;
  if (!sources.some((source) => REFERS_TO_GROUPS.test(source))) {
    const joined = new RegExp(sources.map((source) => `(?:${source})`).join("|"), "i");
    return (name) => joined.test(name);
  }
  const regexes = sources.map((source) => new RegExp(source, "i"));
  return (name) => regexes.some((regex) => regex.test(name));
}

interface NameRules {
  secret: (name: string) => boolean;
  ignored: (name: string) => boolean;
}

/**
 * How much of each value the credential patterns read. Evaluation is
 * synchronous, so one large value must not stall every request behind it:
 * the patterns below run in linear time, and the cap bounds even that to a
 * constant per value. Credentials sit at the start of the values they are
 * found in (a connection string, a URL, a SAS query string), and real env
 * values are short. The PEM header is the exception: a key often follows
 * certificates in a bundle, so it is searched for in the whole value, with a
 * pattern that is linear there too.
 */
const SCAN_LIMIT = 4096;

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]{0,64}PRIVATE KEY(?: BLOCK)?-----/;

const AZURE_KEY =
  /(?:^|;)\s*(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?!\$\()[^;\s]/i;
const AZURE_SAS = /[?&]sig=(?!\$\()[^&\s]{8}/i;
const CONNECTION_PASSWORD = /(?:^|;)\s*(?:Password|Pwd)\s*=\s*(?!\$\()[^;\s]/i;

/**
 * Values that are credentials whatever the variable is called, tested on the
 * first SCAN_LIMIT characters. Each pattern starts at a fixed character (`;`,
 * `?`, `&` or the start) and scans runs that cannot restart inside themselves,
 * so none is worse than linear. Each keyed form skips `$(VAR)`, which
 * Kubernetes fills in from another variable.
 */
const CREDENTIALS: readonly { what: string; foundIn: (prefix: string) => boolean }[] = [
  {
    what: "an Azure connection string carrying an account or shared access key",
    foundIn: (prefix) => AZURE_KEY.test(prefix),
  },
  { what: "an Azure shared access signature", foundIn: (prefix) => AZURE_SAS.test(prefix) },
  {
    what: "a connection string with a password",
    foundIn: (prefix) => CONNECTION_PASSWORD.test(prefix),
  },
  { what: "a URL with a password in it", foundIn: hasUrlPassword },
];

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** `[A-Za-z0-9+.-]`, the characters of a URL scheme. */
function isSchemeChar(code: number): boolean {
  return (
    isLetter(code) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2d ||
    code === 0x2e
  );
}

/** After `://`: a user, then `:` and a password that is not a `$(VAR)` reference, then `@`. */
const USER_AND_PASSWORD = /^[^\s/:@]*:(?!\$\()[^\s/@]+@/;

/**
 * `scheme://user:password@`, where the scheme is the run of scheme characters
 * right before `://` and holds a letter. Found from each `://` instead of by
 * one unanchored pattern, which retried the scheme from every letter of a long
 * word and took quadratic time. Each backward walk and forward match stops at
 * the `:` or `/` of the next `://`, so the whole search is linear.
 */
function hasUrlPassword(text: string): boolean {
  for (let at = text.indexOf("://"); at >= 0; at = text.indexOf("://", at + 1)) {
    if (schemeEndsAt(text, at) && USER_AND_PASSWORD.test(text.slice(at + 3))) return true;
  }
  return false;
}

function schemeEndsAt(text: string, end: number): boolean {
  for (let i = end - 1; i >= 0; i--) {
    const code = text.charCodeAt(i);
    if (isLetter(code)) return true;
    if (!isSchemeChar(code)) return false;
  }
  return false;
}

/** What a literal value looks like when it is a credential whatever its name, else undefined. */
export function credentialIn(value: string): string | undefined {
  if (value.includes("-----BEGIN ") && PEM_PRIVATE_KEY.test(value)) return "a PEM private key";
  const prefix = value.length > SCAN_LIMIT ? value.slice(0, SCAN_LIMIT) : value;
  // Each of CREDENTIALS needs an `=` (a key, a signature, a password) or a
  // `://` (a URL): most values have neither, and need no pattern run.
  if (!prefix.includes("=") && !prefix.includes("://")) return undefined;
  return CREDENTIALS.find((c) => c.foundIn(prefix))?.what;
}

/** `$(NAME)` anywhere in the scanned prefix: the sensitive part comes from another, checkable variable. */
const REFERENCE = /\$\([^()\s]+\)/;

const FIX =
  "move it to a Kubernetes Secret read through valueFrom.secretKeyRef, or mount it from Azure Key Vault with the Secrets Store CSI driver";

/** Whether a variable or flag name looks secret under the configured patterns. */
function secretName(name: string, rules: NameRules): boolean {
  const tested = name.length > NAME_LIMIT ? name.slice(0, NAME_LIMIT) : name;
  return rules.secret(tested) && !rules.ignored(tested);
}

/** What makes a literal value a secret: how it looks, or the name it is given under. */
type Secret = { looksLike: string } | { byName: true };

/**
 * Whether a literal value given under `name` is a secret: a credential
 * whatever the name, or any value under a secret-looking name that is not a
 * `$(VAR)` reference and not plainly harmless (a placeholder, a switch or
 * number, a path, a URL without a password).
 */
function judge(value: string, name: string, rules: NameRules): Secret | undefined {
  if (value === "") return undefined;
  const credential = credentialIn(value);
  if (credential) return { looksLike: credential };
  if (!secretName(name, rules)) return undefined;
  if (REFERENCE.test(value.slice(0, SCAN_LIMIT)) || harmlessValue(value, name)) return undefined;
  return { byName: true };
}

// Messages name what a value looks like, never the value itself.
function envFindings(c: ContainerTarget, rules: NameRules): Finding[] {
  const env = c.container.env;
  if (!Array.isArray(env)) return [];
  const findings: Finding[] = [];
  env.forEach((entry: EnvVar | null, index) => {
    if (entry === null || typeof entry !== "object" || typeof entry.value !== "string") return;
    const name = typeof entry.name === "string" ? entry.name : "";
    const secret = judge(entry.value, name, rules);
    if (!secret) return;
    const problem =
      "looksLike" in secret
        ? `sets a literal value that looks like ${secret.looksLike}`
        : "has a secret-looking name and a literal value";
    findings.push({
      message: `env "${name || `#${index}`}" ${problem}, visible to anyone who can read this object; ${FIX}`,
      path: [...c.path, "env", index, "value"],
      container: c,
    });
  });
  return findings;
}

const WHITESPACE = /\s/;

/** `--db-password` → `db_password`, so flags meet the same name patterns as variables. */
function flagName(token: string): string {
  let start = 0;
  while (token[start] === "-") start++;
  return token.slice(start).replaceAll("-", "_");
}

function unquoted(value: string): string {
  const first = value[0];
  return (first === '"' || first === "'") && value.endsWith(first) && value.length >= 2
    ? value.slice(1, -1)
    : value;
}

/**
 * Secrets passed on the command line: `--password=…` or `--password …` in
 * `command` or `args`, also inside a shell string (`sh -c "… --token=…"`),
 * judged like env values by the flag's name; and credential-looking values
 * in any argument. Each argument's first SCAN_LIMIT characters are split once
 * into words, so the scan is linear in the arguments.
 */
function argFindings(c: ContainerTarget, rules: NameRules): Finding[] {
  const findings: Finding[] = [];
  for (const field of ["command", "args"] as const) {
    const list = c.container[field];
    if (!Array.isArray(list)) continue;
    // Every word, with the index of the argument it came from.
    const words: { text: string; index: number }[] = [];
    list.forEach((arg: unknown, index) => {
      if (typeof arg !== "string") return;
      const scanned = arg.length > SCAN_LIMIT ? arg.slice(0, SCAN_LIMIT) : arg;
      // Most arguments are one word: no split for them.
      if (!WHITESPACE.test(scanned)) {
        if (scanned !== "") words.push({ text: scanned, index });
        return;
      }
      for (const text of scanned.split(/\s+/)) {
        if (text !== "") words.push({ text, index });
      }
    });
    // One finding per argument, however many secrets it holds.
    let flagged: Set<number> | undefined;
    const report = (index: number, problem: string) => {
      flagged ??= new Set<number>();
      if (flagged.has(index)) return;
      flagged.add(index);
      findings.push({
        message: `${field}[${index}] passes ${problem}, visible to anyone who can read this object; ${FIX}`,
        path: [...c.path, field, index],
        container: c,
      });
    };
    words.forEach(({ text, index }, i) => {
      if (!text.startsWith("-")) {
        const credential = credentialIn(text);
        if (credential) report(index, `a literal value that looks like ${credential}`);
        return;
      }
      const equals = text.indexOf("=");
      const flag = equals > 0 ? text.slice(0, equals) : text;
      const next = words[i + 1];
      const value =
        equals > 0
          ? text.slice(equals + 1)
          : next && !next.text.startsWith("-")
            ? next.text
            : undefined;
      if (value === undefined) return;
      const secret = judge(unquoted(value), flagName(flag), rules);
      if (!secret) return;
      report(
        index,
        "looksLike" in secret
          ? `a literal value that looks like ${secret.looksLike}`
          : `a literal value for ${JSON.stringify(flag.slice(0, 64))}`,
      );
    });
  }
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
  // Compiled once per policy set: compiling them per request was a quarter of this policy's time.
  prepare: (params): NameRules => ({
    secret: anyOf(params.namePatterns),
    ignored: anyOf(params.ignoredNamePatterns),
  }),
  validate(pod, rules) {
    const findings: Finding[] = [];
    for (const c of containersOf(pod)) {
      findings.push(...envFindings(c, rules), ...argFindings(c, rules));
    }
    return findings;
  },
});
