import { dirname, resolve } from "node:path";
import {
  compilePolicySet,
  globMatcher,
  type PolicySet,
  type WorkloadKind,
} from "../engine/index.js";
import { type SubjectMatch, type Subjects, subjectMatcher } from "../exceptions/subjects.js";
import type { NamespaceMode } from "../server/namespace-mode.js";
import { celPolicyFileSchema, compileCelPolicies, type PlacedCelPolicies } from "./cel-policies.js";
import type { LoadedPolicy } from "./declarations.js";
import { parseYamlFile, readTextFile, validateParameters } from "./declarations.js";
import { PolicyLoadError, parseOrThrow } from "./errors.js";
import { type PolicySetFile, policySetSchema } from "./schema.js";
import { toWorkloadKind } from "./workload-kinds.js";

/** Namespaces no policy ever touches: breaking them can take the cluster down. */
export const ALWAYS_EXEMPT_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

export interface Settings {
  /** Mode of namespaces without the mode label; `off` means opt-in only. */
  defaultMode: NamespaceMode;
  modeLabel: string;
  tollgateNamespace: string;
  exemptNamespaces: string[];
  /** Break-glass: requests of these users, groups or ServiceAccounts are admitted unchecked. */
  exemptSubject: SubjectMatch;
  /** The subjects `exemptSubject` admits, as written (`tollgate policies -o vap` needs them). */
  exemptSubjects: Subjects;
  /** Deny changes of the mode label on Namespaces, except by `modeLabelEditor`s. */
  protectModeLabel: boolean;
  modeLabelEditor: SubjectMatch;
  /** Namespaces whose PolicyExceptions are honoured. */
  mayHoldExceptions: (namespace: string) => boolean;
}

export interface ResolvedPolicySet {
  set: PolicySet;
  /** The kinds beyond the built-in ones with a pod template; the webhooks must register them. */
  workloadKinds: WorkloadKind[];
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

/** Pod policies judge every kind with a pod template, the configured ones included. */
function withWorkloadKinds(policy: LoadedPolicy, kinds: readonly WorkloadKind[]): LoadedPolicy {
  const { declaration, module } = policy;
  if (module.scope !== "pod" || kinds.length === 0) return policy;
  const added = kinds.map((k) => k.kind).filter((k) => !declaration.match.kinds.includes(k));
  return {
    ...policy,
    declaration: {
      ...declaration,
      match: { ...declaration.match, kinds: [...declaration.match.kinds, ...added] },
    },
  };
}

/** Reads a file `celPolicyFiles` names, resolved against the PolicySet file's folder. */
export type IncludeReader = (path: string) => { file: string; raw: unknown };

const noIncludes: IncludeReader = (path) => {
  throw new PolicyLoadError(path, "", "cannot be read: this policy set was not loaded from a file");
};

/** The PolicySet's CEL policies, inline and from the files it names, compiled once. */
function celPoliciesOf(
  file: PolicySetFile,
  source: string,
  include: IncludeReader,
): LoadedPolicy[] {
  const groups: PlacedCelPolicies[] = [
    { file: source, field: "celPolicies", policies: file.celPolicies },
    ...file.celPolicyFiles.map((path) => {
      const named = include(path);
      return {
        file: named.file,
        field: "",
        policies: parseOrThrow(celPolicyFileSchema, named.raw ?? [], named.file),
      };
    }),
  ];
  return compileCelPolicies(groups);
}

/** Every id once: a CEL policy may not take a built-in policy's id, nor another's. */
function checkUnique(policies: readonly LoadedPolicy[]): void {
  const seen = new Map<string, string>();
  for (const { declaration, file } of policies) {
    const previous = seen.get(declaration.id);
    if (previous !== undefined) {
      throw new PolicyLoadError(
        file,
        "id",
        `"${declaration.id}" is already the id of a policy (${previous})`,
      );
    }
    seen.set(declaration.id, file);
  }
}

/**
 * Merges a parsed policy set file over the shipped declarations and adds its
 * CEL policies. Pure but for `include`, which reads the files it names.
 */
export function resolvePolicySet(
  shipped: readonly LoadedPolicy[],
  raw: unknown,
  source: string,
  include: IncludeReader = noIncludes,
): ResolvedPolicySet {
  const file = parseOrThrow(policySetSchema, raw ?? {}, source);
  const policies = [...shipped, ...celPoliciesOf(file, source, include)];
  checkUnique(policies);
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
  const workloadKinds = file.workloadKinds.map(toWorkloadKind);
  const resolved = policies
    .map((p) => applyOverrides(p, file, source))
    .map((p) => withWorkloadKinds(p, workloadKinds));
  const exemptNamespaces = [...ALWAYS_EXEMPT_NAMESPACES, file.tollgateNamespace];
  return {
    set: compilePolicySet(resolved, exemptNamespaces, workloadKinds),
    workloadKinds,
    settings: {
      defaultMode: file.defaultMode,
      modeLabel: file.modeLabel,
      tollgateNamespace: file.tollgateNamespace,
      exemptNamespaces,
      exemptSubject: subjectMatcher(file.exemptions.subjects),
      exemptSubjects: file.exemptions.subjects,
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
  const include: IncludeReader = (path) => {
    const named = resolve(dirname(file), path);
    return { file: named, raw: parseYamlFile(readTextFile(named), named) };
  };
  return resolvePolicySet(policies, raw, file, include);
}
