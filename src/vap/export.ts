// `tollgate policies -o vap`: the enabled deny policies whose CEL form
// (policies/<id>/vap.yaml) judges exactly what they judge, as
// ValidatingAdmissionPolicies and Bindings the API server runs itself, so they
// keep denying while every Tollgate replica is down. Parameters are inlined;
// the bindings select the namespaces the enforce webhook selects.
import {
  builtInPodTemplates,
  CONTROLLER_MANAGER_USER,
  CONTROLLERS,
  controllerServiceAccount,
  type KubeObject,
} from "../engine/index.js";
import type { LoadedPolicy, ResolvedPolicySet } from "../policyset/index.js";
import type { ExactForm, VapForm } from "./forms.js";

/** A policy left out, with the one-line reason. */
export interface NotExported {
  id: string;
  reason: string;
}

export interface VapExport {
  /** A ValidatingAdmissionPolicy then its Binding, per exported policy. */
  objects: KubeObject[];
  exported: string[];
  notExported: NotExported[];
}

interface Resource {
  group: string;
  versions: string[];
  resource: string;
}

/**
 * What the enforce webhook (deploy/base/webhooks/validating-enforce.yaml)
 * sends Tollgate, by kind: a policy judges nothing else in a cluster, so its
 * VAP matches nothing else. test/vap/export.test.ts keeps the two in step.
 */
export const ENFORCED_RESOURCES: Readonly<Record<string, Resource>> = {
  Pod: { group: "", versions: ["v1"], resource: "pods" },
  ReplicationController: { group: "", versions: ["v1"], resource: "replicationcontrollers" },
  Service: { group: "", versions: ["v1"], resource: "services" },
  Deployment: { group: "apps", versions: ["v1"], resource: "deployments" },
  StatefulSet: { group: "apps", versions: ["v1"], resource: "statefulsets" },
  DaemonSet: { group: "apps", versions: ["v1"], resource: "daemonsets" },
  ReplicaSet: { group: "apps", versions: ["v1"], resource: "replicasets" },
  Job: { group: "batch", versions: ["v1"], resource: "jobs" },
  CronJob: { group: "batch", versions: ["v1"], resource: "cronjobs" },
  Ingress: { group: "networking.k8s.io", versions: ["v1"], resource: "ingresses" },
  AzureIdentity: { group: "aadpodidentity.k8s.io", versions: ["*"], resource: "azureidentities" },
  AzureIdentityBinding: {
    group: "aadpodidentity.k8s.io",
    versions: ["*"],
    resource: "azureidentitybindings",
  },
};

const NAME_LABEL = "kubernetes.io/metadata.name";
const GLOB = /[*?[\]{}()!+@]/;

/** A JSON value written as a CEL literal. */
export function celLiteral(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string")
    return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} in CEL`);
    return Number.isInteger(value)
      ? String(value)
      : `${value}`.includes(".")
        ? String(value)
        : `${value}.0`;
  }
  if (Array.isArray(value)) return `[${value.map(celLiteral).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${celLiteral(k)}: ${celLiteral(v)}`).join(", ")}}`;
  }
  throw new Error(`cannot write a ${typeof value} in CEL`);
}

/** `params.<name>` replaced by the parameter's value; any other use of params is a mistake. */
function inlineParameters(expression: string, id: string, parameters: Record<string, unknown>) {
  const inlined = expression.replace(/\bparams\.([A-Za-z_][A-Za-z0-9_]*)\b/g, (_, name: string) => {
    if (!(name in parameters))
      throw new Error(`policies/${id}/vap.yaml: params.${name} is not a parameter of ${id}`);
    return celLiteral(parameters[name]);
  });
  if (/\bparams\b/.test(inlined)) {
    throw new Error(`policies/${id}/vap.yaml: params is used other than as params.<name>`);
  }
  return inlined;
}

/** `object.?a.?b.orValue(fallback)`, a guarded walk down a path. */
function walk(path: readonly string[], fallback: string): string {
  return path.length === 0
    ? "object"
    : `object${path.map((key) => `.?${key}`).join("")}.orValue(${fallback})`;
}

/** The pod spec (or its metadata) of whatever workload the request carries, `{}` when it has none. */
function podPart(policy: LoadedPolicy, resolved: ResolvedPolicySet, part: "spec" | "metadata") {
  const templates = new Map<string, string[]>();
  for (const kind of policy.declaration.match.kinds) {
    const custom = resolved.workloadKinds.find((w) => w.kind === kind);
    const path = custom?.podTemplate ?? builtInPodTemplates("", kind) ?? ["spec", "template"];
    const key = [...path, part].join(".");
    templates.set(key, [...(templates.get(key) ?? []), kind]);
  }
  const branches = [...templates.entries()];
  // The most common path is the fallback; the others are chosen by kind.
  branches.sort((a, b) => b[1].length - a[1].length);
  const [fallback, ...others] = branches;
  let expression = walk(fallback?.[0].split(".") ?? [part], "{}");
  for (const [path, kinds] of others.reverse()) {
    const test =
      kinds.length === 1
        ? `object.kind == ${celLiteral(kinds[0])}`
        : `object.kind in ${celLiteral(kinds)}`;
    expression = `${test} ? ${walk(path.split("."), "{}")} : ${expression}`;
  }
  return expression;
}

/**
 * Each container's image, trimmed (`images`), and read as the container
 * runtime reads it, as `parseImage` of src/engine/image-ref.ts does
 * (`imageRefs`: `[registry, repository, host name, 'y' or 'n' for a port,
 * port]`, lists of strings so that every literal has one type): a first
 * component with a dot, a colon or `localhost` is the registry, else
 * docker.io, whose aliases are one and whose official images get `library/`.
 * Stages instead of cel.bind, which the API server does not declare.
 */
const IMAGE_VARIABLES: readonly { name: string; expression: string }[] = [
  { name: "images", expression: "variables.containers.map(c, c.?image.orValue('').trim())" },
  {
    name: "imageNames",
    expression: "variables.images.map(i, i.indexOf('@') >= 0 ? i.substring(0, i.indexOf('@')) : i)",
  },
  {
    name: "imagePaths",
    expression:
      "variables.imageNames.map(n, n.lastIndexOf(':') > n.lastIndexOf('/') ? n.substring(0, n.lastIndexOf(':')) : n)",
  },
  {
    name: "imageHosted",
    expression:
      "variables.imagePaths.map(p, p.indexOf('/') >= 0 && (p.substring(0, p.indexOf('/')).contains('.') || p.substring(0, p.indexOf('/')).contains(':') || p.substring(0, p.indexOf('/')) == 'localhost') ? [p.substring(0, p.indexOf('/')).lowerAscii(), p.substring(p.indexOf('/') + 1)] : ['docker.io', p])",
  },
  {
    name: "imageHubbed",
    expression:
      "variables.imageHosted.map(r, r[0] in ['docker.io', 'index.docker.io', 'registry-1.docker.io'] ? ['docker.io', r[1].contains('/') ? r[1] : 'library/' + r[1]] : r)",
  },
  {
    name: "imageRefs",
    expression:
      "variables.imageHubbed.map(r, r[0].lastIndexOf(':') > r[0].lastIndexOf(']') ? [r[0], r[1], r[0].substring(0, r[0].lastIndexOf(':')), 'y', r[0].substring(r[0].lastIndexOf(':') + 1)] : [r[0], r[1], r[0], 'n', ''])",
  },
];

function podVariables(policy: LoadedPolicy, resolved: ResolvedPolicySet, form: ExactForm) {
  const text = JSON.stringify(form);
  const variables: { name: string; expression: string }[] = [];
  if (/variables\.(spec|containers|images|imageRefs)\b/.test(text)) {
    variables.push({ name: "spec", expression: podPart(policy, resolved, "spec") });
  }
  if (/variables\.(containers|images|imageRefs)\b/.test(text)) {
    variables.push({
      name: "containers",
      expression:
        "variables.spec.?initContainers.orValue([]) + variables.spec.?containers.orValue([]) + variables.spec.?ephemeralContainers.orValue([])",
    });
  }
  if (/variables\.podMetadata\b/.test(text)) {
    variables.push({ name: "podMetadata", expression: podPart(policy, resolved, "metadata") });
  }
  if (/variables\.(images|imageRefs)\b/.test(text)) variables.push(...IMAGE_VARIABLES);
  return variables;
}

function covers(kinds: readonly string[], kind: string): boolean {
  return kinds.includes(kind) || kinds.includes("*");
}

/** Kinds the policy judges that the enforce webhook sends, as resource rules. */
function resourceRules(kinds: readonly string[], resolved: ResolvedPolicySet) {
  const known: Record<string, Resource> = { ...ENFORCED_RESOURCES };
  for (const w of resolved.workloadKinds) {
    known[w.kind] = {
      group: w.group,
      versions: w.versions.length > 0 ? [...w.versions] : ["*"],
      resource: w.resource,
    };
  }
  const chosen = Object.entries(known).filter(([kind]) => covers(kinds, kind));
  const rules = new Map<
    string,
    { apiGroups: string[]; apiVersions: string[]; resources: string[] }
  >();
  for (const [, r] of chosen) {
    const key = `${r.group}\u0000${r.versions.join(",")}`;
    const rule = rules.get(key) ?? { apiGroups: [r.group], apiVersions: r.versions, resources: [] };
    rule.resources.push(r.resource);
    rules.set(key, rule);
  }
  return [...rules.values()].map((rule) => ({
    ...rule,
    operations: ["CREATE"],
    scope: "Namespaced",
  }));
}

/**
 * The engine turns what a built-in controller copied from an owner this
 * policy also judges into a warning; the VAP leaves those requests alone.
 */
function controllerCopyCondition(kinds: readonly string[]): string | undefined {
  const cases = Object.entries(CONTROLLERS).flatMap(([owner, { group, child }]) =>
    covers(kinds, owner)
      ? child
          .filter((c) => covers(kinds, c))
          .map((c) => {
            const version =
              group === ""
                ? "!r.apiVersion.contains('/')"
                : `r.apiVersion.startsWith(${celLiteral(`${group}/`)})`;
            const users = celLiteral([CONTROLLER_MANAGER_USER, controllerServiceAccount(owner)]);
            return `(request.kind.kind == ${celLiteral(c)} && r.kind == ${celLiteral(owner)} && ${version} && request.userInfo.?username.orValue('') in ${users})`;
          })
      : [],
  );
  if (cases.length === 0) return undefined;
  return `!object.metadata.?ownerReferences.orValue([]).exists(r, r.?controller.orValue(false) == true && (${cases.join(" || ")}))`;
}

/** The enforce webhook's namespaceSelector, as deploy/ writes it for this policy set. */
export function enforcedNamespaceSelector(resolved: ResolvedPolicySet) {
  const { settings } = resolved;
  return {
    matchExpressions: [
      { key: NAME_LABEL, operator: "NotIn", values: [...settings.exemptNamespaces] },
      settings.defaultMode === "enforce"
        ? { key: settings.modeLabel, operator: "NotIn", values: ["warn", "audit", "off"] }
        : { key: settings.modeLabel, operator: "In", values: ["enforce"] },
    ],
  };
}

function globIn(values: readonly string[]): string | undefined {
  return values.find((v) => GLOB.test(v));
}

/** Why the policy, as the PolicySet configures it, has no exact VAP; undefined when it has one. */
function whyNot(policy: LoadedPolicy, form: VapForm | undefined, resolved: ResolvedPolicySet) {
  const { declaration: d } = policy;
  if (policy.cel)
    return "a CEL policy of the PolicySet; write it as a ValidatingAdmissionPolicy directly";
  if (!form) return `no CEL form (policies/${d.id}/${"vap.yaml"})`;
  if ("notExpressible" in form) return form.notExpressible;
  if (!d.match.operations.includes("CREATE")) return "does not judge CREATE";
  if (d.match.workloads === "long-running") return "judges long-running workloads only";
  if (d.exemptions.images.length > 0) return `exempts images (${d.exemptions.images.join(", ")})`;
  const subjects = resolved.settings.exemptSubjects;
  const glob =
    globIn(d.match.namespaces) ??
    globIn(d.exemptions.namespaces) ??
    globIn(d.exemptions.names) ??
    globIn([...subjects.users, ...subjects.groups, ...subjects.serviceAccounts]) ??
    globIn(
      form.literalParameters.flatMap((name) => {
        const value = (d.parameters as Record<string, unknown>)[name];
        return Array.isArray(value) ? value.map(String) : [];
      }),
    );
  if (glob !== undefined)
    return `the PolicySet gives it the glob ${JSON.stringify(glob)}, which CEL's in cannot match`;
  return undefined;
}

function matchConditions(policy: LoadedPolicy, resolved: ResolvedPolicySet) {
  const { declaration: d } = policy;
  const conditions: { name: string; expression: string }[] = [];
  const name = "(request.namespace + '/' + object.metadata.?name.orValue(''))";
  if (d.match.namespaces.length > 0) {
    conditions.push({
      name: "in-namespaces",
      expression: `request.namespace in ${celLiteral(d.match.namespaces)}`,
    });
  }
  if (d.exemptions.namespaces.length > 0) {
    conditions.push({
      name: "not-exempt-namespace",
      expression: `!(request.namespace in ${celLiteral(d.exemptions.namespaces)})`,
    });
  }
  if (d.exemptions.names.length > 0) {
    conditions.push({
      name: "not-exempt-name",
      expression: `!(${name} in ${celLiteral(d.exemptions.names)})`,
    });
  }
  const { users, groups, serviceAccounts } = resolved.settings.exemptSubjects;
  const subjects = [
    ...(users.length > 0 ? [`request.userInfo.?username.orValue('') in ${celLiteral(users)}`] : []),
    ...(groups.length > 0
      ? [`request.userInfo.?groups.orValue([]).exists(g, g in ${celLiteral(groups)})`]
      : []),
    ...(serviceAccounts.length > 0
      ? [
          `request.userInfo.?username.orValue('') in ${celLiteral(serviceAccounts.map((a) => `system:serviceaccount:${a.replace("/", ":")}`))}`,
        ]
      : []),
  ];
  if (subjects.length > 0) {
    conditions.push({ name: "not-exempt-subject", expression: `!(${subjects.join(" || ")})` });
  }
  const copy = controllerCopyCondition(d.match.kinds);
  if (copy) conditions.push({ name: "not-a-controller-copy", expression: copy });
  return conditions;
}

function vapOf(policy: LoadedPolicy, form: ExactForm, resolved: ResolvedPolicySet): KubeObject[] {
  const { declaration: d } = policy;
  const parameters = d.parameters as Record<string, unknown>;
  const name = `tollgate-${d.id}`;
  const inline = (expression: string) => inlineParameters(expression, d.id, parameters);
  const variables = [
    ...(policy.module.scope === "pod" ? podVariables(policy, resolved, form) : []),
    ...form.variables.map((v) => ({ name: v.name, expression: inline(v.expression) })),
  ];
  const conditions = matchConditions(policy, resolved);
  const labels = { "app.kubernetes.io/component": "admission-policy", "tollgate.dev/policy": d.id };
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name, labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: resourceRules(d.match.kinds, resolved) },
        ...(conditions.length > 0 ? { matchConditions: conditions } : {}),
        ...(variables.length > 0 ? { variables } : {}),
        validations: form.validations.map((v) => ({
          expression: inline(v.expression),
          message: `${d.id}: ${v.message}`,
          reason: "Forbidden",
        })),
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels },
      spec: {
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: enforcedNamespaceSelector(resolved) },
      },
    },
  ];
}

/**
 * The VAPs of every enabled deny policy of the set that has an exact CEL
 * form, and the reason for each enabled deny policy left out.
 */
export function exportVaps(
  resolved: ResolvedPolicySet,
  formOf: (policy: LoadedPolicy) => VapForm | undefined,
): VapExport {
  const out: VapExport = { objects: [], exported: [], notExported: [] };
  for (const policy of resolved.policies) {
    const { declaration: d } = policy;
    if (!d.enabled || d.type !== "validate" || d.action !== "deny") continue;
    const form = policy.cel ? undefined : formOf(policy);
    const reason = whyNot(policy, form, resolved);
    if (reason !== undefined || !form || "notExpressible" in form) {
      out.notExported.push({ id: d.id, reason: reason ?? "no CEL form" });
      continue;
    }
    out.objects.push(...vapOf(policy, form, resolved));
    out.exported.push(d.id);
  }
  return out;
}
