// Which requests a policy's matchConstraints (or a binding's matchResources)
// select, as the API server decides it for one CREATE or UPDATE.
import { selectorMatches } from "../engine/index.js";
import type { MatchResources, ResourceRule } from "./types.js";

/** The parts of an admission request that matching looks at. */
export interface RequestFacts {
  group: string;
  version: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  operation: string;
  name: string;
  namespace: string | undefined;
  clusterScoped: boolean;
  objectLabels: Record<string, string>;
  /** Labels of the request's namespace (or of the Namespace itself); undefined for other cluster-scoped objects. */
  namespaceLabels: Record<string, string> | undefined;
}

const anyOf = (list: readonly string[], value: string) =>
  list.includes("*") || list.includes(value);

function ruleMatches(rule: ResourceRule, req: RequestFacts): boolean {
  const resourceOk =
    rule.resources.includes("*") ||
    rule.resources.includes("*/*") ||
    rule.resources.includes(req.resource);
  const scopeOk = rule.scope === "*" || (rule.scope === "Cluster") === req.clusterScoped;
  const nameOk = rule.resourceNames.length === 0 || rule.resourceNames.includes(req.name);
  return (
    anyOf(rule.apiGroups, req.group) &&
    anyOf(rule.apiVersions, req.version) &&
    resourceOk &&
    anyOf(rule.operations, req.operation) &&
    scopeOk &&
    nameOk
  );
}

/**
 * `requireRules`: a policy's constraints select nothing without rules; a
 * binding's matchResources without rules does not narrow the policy's.
 */
export function matchesResources(
  match: MatchResources,
  req: RequestFacts,
  requireRules: boolean,
): boolean {
  if (match.resourceRules.length > 0 || requireRules) {
    if (!match.resourceRules.some((rule) => ruleMatches(rule, req))) return false;
  }
  if (match.excludeResourceRules.some((rule) => ruleMatches(rule, req))) return false;
  if (
    req.namespaceLabels !== undefined &&
    !selectorMatches(match.namespaceSelector, req.namespaceLabels)
  ) {
    return false;
  }
  return selectorMatches(match.objectSelector, req.objectLabels);
}

/** The API server's guess from kind to resource, for kinds without a discovery document at hand. */
export function resourceOfKind(kind: string): string {
  const lower = kind.toLowerCase();
  if (IRREGULAR[lower]) return IRREGULAR[lower];
  if (lower.endsWith("s")) return `${lower}es`;
  if (lower.endsWith("y") && !/[aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

const IRREGULAR: Readonly<Record<string, string>> = {
  endpoints: "endpoints",
};
