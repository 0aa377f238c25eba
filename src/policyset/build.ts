import { compilePolicySet, globMatcher, type Mode, type PolicySet } from "../engine/index.js";
import { type SubjectMatch, subjectMatcher } from "../exceptions/subjects.js";
import type { LoadedPolicy } from "./declarations.js";
import { parseYamlFile, readTextFile, validateParameters } from "./declarations.js";
import { PolicyLoadError, parseOrThrow } from "./errors.js";
import { type PolicySetFile, policySetSchema } from "./schema.js";

/** Namespaces no policy ever touches: breaking them can take the cluster down. */
export const ALWAYS_EXEMPT_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

export interface Settings {
  /** Mode of namespaces without the mode label; `off` means opt-in only. */
  defaultMode: Mode | "off";
  modeLabel: string;
  tollgateNamespace: string;
  exemptNamespaces: string[];
  /** Break-glass: requests of these users, groups or ServiceAccounts are admitted unchecked. */
  exemptSubject: SubjectMatch;
  /** Deny changes of the mode label on Namespaces, except by `modeLabelEditor`s. */
  protectModeLabel: boolean;
  modeLabelEditor: SubjectMatch;
  /** Namespaces whose PolicyExceptions are honoured. */
  mayHoldExceptions: (namespace: string) => boolean;
}

export interface ResolvedPolicySet {
  set: PolicySet;
  settings: Settings;
  policies: LoadedPolicy[];
  /** Where the user's file came from, or `built-in defaults`. */
  source: string;
}

function applyOverrides(policy: LoadedPolicy, file: PolicySetFile, source: string): LoadedPolicy {
  const { declaration, module } = policy;
  const override = file.policies[declaration.id] ?? {};
  const field = ["policies", declaration.id];
  const parameters = override.parameters
    ? validateParameters(
        module,
        { ...(declaration.parameters as object), ...override.parameters },
        source,
        [...field, "parameters"],
      )
    : declaration.parameters;
  const own = override.exemptions ?? {};
  const global = file.exemptions;
  return {
    ...policy,
    declaration: {
      ...declaration,
      enabled: override.enabled ?? declaration.enabled,
      action: override.action ?? declaration.action,
      parameters,
      match: {
        ...declaration.match,
        namespaces: override.match?.namespaces ?? declaration.match.namespaces,
      },
      exemptions: {
        namespaces: [
          ...declaration.exemptions.namespaces,
          ...global.namespaces,
          ...(own.namespaces ?? []),
        ],
        names: [...declaration.exemptions.names, ...global.names, ...(own.names ?? [])],
        images: [...declaration.exemptions.images, ...global.images, ...(own.images ?? [])],
      },
    },
  };
}

/** Merges a parsed policy set file over the shipped declarations. Pure. */
export function resolvePolicySet(
  policies: readonly LoadedPolicy[],
  raw: unknown,
  source: string,
): ResolvedPolicySet {
  const file = parseOrThrow(policySetSchema, raw ?? {}, source);
  const known = new Set(policies.map((p) => p.declaration.id));
  for (const id of Object.keys(file.policies)) {
    if (!known.has(id)) {
      throw new PolicyLoadError(
        source,
        `policies.${id}`,
        `unknown policy; known ones are: ${[...known].join(", ")}`,
      );
    }
  }
  const resolved = policies.map((p) => applyOverrides(p, file, source));
  const exemptNamespaces = [...ALWAYS_EXEMPT_NAMESPACES, file.tollgateNamespace];
  return {
    set: compilePolicySet(resolved, exemptNamespaces),
    settings: {
      defaultMode: file.defaultMode,
      modeLabel: file.modeLabel,
      tollgateNamespace: file.tollgateNamespace,
      exemptNamespaces,
      exemptSubject: subjectMatcher(file.exemptions.subjects),
      protectModeLabel: file.protectModeLabel,
      modeLabelEditor: subjectMatcher(file.modeLabelEditors),
      mayHoldExceptions: globMatcher(file.exceptionNamespaces),
    },
    policies: resolved,
    source,
  };
}

const DEFAULT_FILE = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };

/** Reads the user's policy set file, or uses the defaults when none is given. */
export function loadPolicySetFile(
  policies: readonly LoadedPolicy[],
  file: string | undefined,
): ResolvedPolicySet {
  if (!file) return resolvePolicySet(policies, DEFAULT_FILE, "built-in defaults");
  const raw = parseYamlFile(readTextFile(file), file);
  if (raw === null || raw === undefined) {
    throw new PolicyLoadError(file, "", "is empty; expected a PolicySet");
  }
  return resolvePolicySet(policies, raw, file);
}
