import picomatch from "picomatch";
import { itemRef } from "./checklist.js";
import { type ImageParser, memoImageParser } from "./image-ref.js";
import type { ObjectTarget, PolicyDeclaration, PolicyModule } from "./policy.js";
import {
  type PolicyResult,
  passResult,
  SKIP_REASONS,
  type SkipReason,
  skipResult,
} from "./result.js";
import type { ChecklistRef, Operation } from "./types.js";
import {
  type PodTarget,
  type PodTemplateLookup,
  podTemplateLookup,
  type WorkloadKind,
} from "./workloads.js";

type Matcher = (value: string) => boolean;

/** The function a policy runs in its phase: `validate` or `mutate`, by its declared type. */
export type PolicyHook = (target: ObjectTarget & PodTarget, params: unknown) => unknown[];

/** A policy ready to run: its declaration, its code and its matchers. */
export interface CompiledPolicy {
  declaration: PolicyDeclaration;
  module: PolicyModule;
  /**
   * Looked up once here rather than per request: policy modules all have
   * different shapes, so reading `module[hook]` on the hot path is slow.
   */
  hook: PolicyHook | undefined;
  /** The module's `applies` (object policies only): whether the policy applies to this object. */
  applies: ((target: ObjectTarget, params: unknown) => boolean | string) | undefined;
  /** The parameters the hooks take: the declaration's, through the module's `prepare` when it has one. */
  parameters: unknown;
  /** `module.scope`: "pod" hooks get the pod spec, "object" hooks the whole object. */
  scope: PolicyModule["scope"];
  /** `match.workloads: long-running`: skipped for Jobs, CronJobs and the Pods Jobs own. */
  longRunningOnly: boolean;
  kinds: ReadonlySet<string>;
  operations: ReadonlySet<Operation>;
  inNamespace: Matcher;
  exemptNamespace: Matcher;
  exemptName: Matcher;
  exemptImage: Matcher;
  /** The checklist item of a finding that names no part: the declaration's first. */
  item: ChecklistRef;
  /** The item of each named part (`Finding.part`). */
  partItems: ReadonlyMap<string, ChecklistRef>;
  /** This policy's result for each skip reason, built once: skipping allocates nothing. */
  skips: Readonly<Record<SkipReason, PolicyResult>>;
  /** Its result when it ran and found nothing (or had nothing to patch), built once too. */
  passed: PolicyResult;
  /**
   * True when `match.namespaces`, `exemptions.namespaces` and
   * `exemptions.names` are all empty: only kind and operation decide whether
   * it matches, so the per-request checks skip the namespace and name globs.
   */
  anyNamespaceOrName: boolean;
}

/** The policies one request is evaluated against; immutable once built, but for the image memo (`images`). */
export interface PolicySet {
  /** Mutations first, in registry order, then validations. */
  policies: readonly CompiledPolicy[];
  byKind: ReadonlyMap<string, readonly CompiledPolicy[]>;
  /** Policies whose kinds include `*`; they apply to kinds missing from `byKind` too. */
  anyKind: readonly CompiledPolicy[];
  exemptNamespace: Matcher;
  /** The results of the policies the set turns off. */
  disabled: readonly PolicyResult[];
  /** `a|b` for policies that report the same fault (declared with sameFaultAs). */
  sameFault: ReadonlySet<string>;
  /** Where each kind keeps its pod template: the built-in kinds and the set's workloadKinds. */
  podTemplate: PodTemplateLookup;
  /**
   * Parses container images for the set's evaluations, through a bounded
   * memo (`memoImageParser`): the one thing a set changes after it is built,
   * and invisible in its results.
   */
  images: ImageParser;
  /**
   * Per kind and operation, one entry per policy of `policies`: its
   * `kind-not-matched` result when its kinds leave that kind out, else its
   * `operation-not-matched` result when its operations leave the operation
   * out, else undefined. Worked out once here, so a request does not ask
   * each policy about its kind and operation.
   */
  matchSkips: ReadonlyMap<string, MatchSkips>;
  /** The same for any kind not in `matchSkips`: only the `*` policies cover it. */
  otherKindSkips: MatchSkips;
}

/** For each operation, each policy's skip result or undefined (see `PolicySet.matchSkips`). */
export type MatchSkips = Readonly<Record<Operation, readonly (PolicyResult | undefined)[]>>;

const never: Matcher = () => false;
const always: Matcher = () => true;

/** Globs use picomatch syntax; `*` stops at `/`, `**` crosses it. */
export function globMatcher(patterns: readonly string[], whenEmpty: Matcher = never): Matcher {
  if (patterns.length === 0) return whenEmpty;
  const plain = new Set(patterns.filter((p) => !picomatch.scan(p).isGlob));
  const globs = patterns.filter((p) => !plain.has(p));
  const glob = globs.length > 0 ? picomatch(globs, { dot: true }) : never;
  // Globs with several stars backtrack on long input, and image names reach
  // the mutating webhook before the API server has validated them. No real
  // name, namespace or image is this long, so such a value matches nothing.
  return (value) => plain.has(value) || (value.length <= MAX_GLOB_INPUT && glob(value));
}

const MAX_GLOB_INPUT = 1024;

export interface PolicyEntry {
  declaration: PolicyDeclaration;
  module: PolicyModule;
}

export function compilePolicy({ declaration, module }: PolicyEntry): CompiledPolicy {
  const { match, exemptions } = declaration;
  const hook = declaration.type === "mutate" ? module.mutate : module.validate;
  return {
    declaration,
    module,
    hook: hook as PolicyHook | undefined,
    applies: module.scope === "object" ? module.applies : undefined,
    parameters: module.prepare ? module.prepare(declaration.parameters) : declaration.parameters,
    scope: module.scope,
    longRunningOnly: match.workloads === "long-running",
    kinds: new Set(match.kinds),
    operations: new Set(match.operations),
    inNamespace: globMatcher(match.namespaces, always),
    exemptNamespace: globMatcher(exemptions.namespaces),
    exemptName: globMatcher(exemptions.names),
    exemptImage: globMatcher(exemptions.images),
    item: itemRef(declaration.checklist[0] as ChecklistRef),
    partItems: new Map(
      declaration.checklist.flatMap((m) => (m.part === undefined ? [] : [[m.part, itemRef(m)]])),
    ),
    skips: Object.fromEntries(
      SKIP_REASONS.map((reason) => [reason, skipResult(declaration.id, reason)]),
    ) as Record<SkipReason, PolicyResult>,
    passed: passResult(declaration.id),
    anyNamespaceOrName:
      match.namespaces.length === 0 &&
      exemptions.namespaces.length === 0 &&
      exemptions.names.length === 0,
  };
}

function matchSkipsOf(
  policies: readonly CompiledPolicy[],
  covers: (p: CompiledPolicy) => boolean,
): MatchSkips {
  const forOperation = (operation: Operation) =>
    policies.map((p) => {
      if (!covers(p)) return p.skips["kind-not-matched"];
      return p.operations.has(operation) ? undefined : p.skips["operation-not-matched"];
    });
  return {
    CREATE: forOperation("CREATE"),
    UPDATE: forOperation("UPDATE"),
    DELETE: forOperation("DELETE"),
    CONNECT: forOperation("CONNECT"),
  };
}

export function compilePolicySet(
  entries: readonly PolicyEntry[],
  exemptNamespaces: readonly string[],
  workloadKinds: readonly WorkloadKind[] = [],
): PolicySet {
  const enabled = entries.filter((entry) => entry.declaration.enabled).map(compilePolicy);
  const policies = [
    ...enabled.filter((p) => p.declaration.type === "mutate"),
    ...enabled.filter((p) => p.declaration.type === "validate"),
  ];
  // Each kind's list keeps the global order, so wildcard policies are merged in place.
  const anyKind = policies.filter((p) => p.kinds.has("*"));
  const kinds = new Set(policies.flatMap((p) => [...p.kinds]).filter((k) => k !== "*"));
  const byKind = new Map<string, CompiledPolicy[]>();
  const matchSkips = new Map<string, MatchSkips>();
  for (const kind of kinds) {
    const covers = (p: CompiledPolicy) => p.kinds.has(kind) || p.kinds.has("*");
    byKind.set(kind, policies.filter(covers));
    matchSkips.set(kind, matchSkipsOf(policies, covers));
  }
  const disabled = entries
    .filter((e) => !e.declaration.enabled)
    .map((e) => skipResult(e.declaration.id, "disabled"));
  // Both orders of every declared pair, for a lookup of `a|b`.
  const sameFault = new Set(
    entries.flatMap(({ declaration: { id, sameFaultAs } }) =>
      sameFaultAs.flatMap((other) => [`${id}|${other}`, `${other}|${id}`]),
    ),
  );
  return {
    policies,
    byKind,
    anyKind,
    exemptNamespace: globMatcher(exemptNamespaces),
    disabled,
    sameFault,
    podTemplate: podTemplateLookup(workloadKinds),
    images: memoImageParser(),
    matchSkips,
    otherKindSkips: matchSkipsOf(policies, (p) => p.kinds.has("*")),
  };
}
