// Renders deploy/ with `kubectl kustomize`, the way `kubectl apply -k` would.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";
import { loadPolicySetFile, type ResolvedPolicySet } from "../../src/policyset/index.js";
import { shippedPolicies } from "../support/policies.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const DEPLOY = `${REPO}deploy/`;

let kubectl: string | undefined;

/**
 * The kubectl to render with: the one test/e2e builds (same version as the e2e
 * control plane), else kubectl on PATH. Throws, never skips, when neither exists.
 */
export function findKubectl(): string {
  if (kubectl) return kubectl;
  const built = `${REPO}test/e2e/.run/bin/kubectl`;
  try {
    accessSync(built, constants.X_OK);
    kubectl = built;
    return built;
  } catch {
    // fall through to PATH
  }
  const probe = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (probe.status === 0) {
    kubectl = "kubectl";
    return kubectl;
  }
  throw new Error(
    "no kubectl found: build test/e2e/.run/bin/kubectl with test/e2e/controlplane/build.sh " +
      "or put kubectl on PATH; the deploy tests render deploy/ with `kubectl kustomize`",
  );
}

const rendered = new Map<string, KubeObject[]>();

/** `kubectl kustomize deploy/<dir>` as objects; cached per directory. */
export function render(dir: string): KubeObject[] {
  const cached = rendered.get(dir);
  if (cached) return structuredClone(cached);
  const text = execFileSync(findKubectl(), ["kustomize", `${DEPLOY}${dir}`], {
    encoding: "utf8",
    timeout: 60_000,
  });
  const parsed = parseManifests(text, dir);
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  const objects = parsed.objects.map((o) => o.object);
  rendered.set(dir, objects);
  return structuredClone(objects);
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
}

// --- Typed views of the rendered webhooks, loose on purpose -----------------

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface RenderedWebhook {
  name: string;
  failurePolicy?: string;
  timeoutSeconds?: number;
  sideEffects?: string;
  matchPolicy?: string;
  admissionReviewVersions?: string[];
  reinvocationPolicy?: string;
  objectSelector?: unknown;
  clientConfig: {
    url?: string;
    caBundle?: string;
    service?: { name: string; namespace: string; path?: string; port?: number };
  };
  namespaceSelector?: { matchExpressions?: LabelSelectorRequirement[]; matchLabels?: unknown };
  rules: {
    apiGroups: string[];
    apiVersions: string[];
    operations: string[];
    resources: string[];
    scope?: string;
  }[];
}

export const WEBHOOK_KINDS = new Set([
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
]);

/** Every webhook of every rendered configuration, with its configuration's name. */
/** The mode-label guard's webhook: not a policy webhook, checked on its own. */
export const GUARD_WEBHOOK = "mode-label.tollgate.dev";

/** Every rendered webhook, the mode-label guard included. */
export function allWebhooksOf(
  objects: KubeObject[],
): (RenderedWebhook & { configuration: string; kind: string })[] {
  return objects
    .filter((o) => WEBHOOK_KINDS.has(o.kind ?? ""))
    .flatMap((o) =>
      ((o.webhooks as RenderedWebhook[] | undefined) ?? []).map((w) => ({
        ...w,
        configuration: o.metadata?.name ?? "",
        kind: o.kind ?? "",
      })),
    );
}

/** The webhooks that run policies (mutate, enforce, warn, audit). */
export function webhooksOf(
  objects: KubeObject[],
): (RenderedWebhook & { configuration: string; kind: string })[] {
  return allWebhooksOf(objects).filter((w) => w.name !== GUARD_WEBHOOK);
}

export function webhook(objects: KubeObject[], name: string) {
  const found = allWebhooksOf(objects).find((w) => w.name === name);
  if (!found) throw new Error(`webhook ${name} not rendered`);
  return found;
}

/** The path the API server will call, from a service reference or a url. */
export function pathOf(w: RenderedWebhook): string {
  if (w.clientConfig.service) return w.clientConfig.service.path ?? "/";
  // Textual: the localhost overlay's port is a placeholder, not a number.
  const match = /^https:\/\/[^/?#]+(\/[^?#]*)?/.exec(w.clientConfig.url ?? "");
  if (!match) throw new Error(`not an https url: ${w.clientConfig.url}`);
  return match[1] ?? "/";
}

/**
 * Whether a namespace with these labels is selected, evaluated as the API server
 * does (matchExpressions ANDed; NotIn and DoesNotExist match a missing label).
 */
export function selects(w: RenderedWebhook, labels: Record<string, string>): boolean {
  const expressions = w.namespaceSelector?.matchExpressions ?? [];
  return expressions.every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        return value !== undefined && (e.values ?? []).includes(value);
      case "NotIn":
        return value === undefined || !(e.values ?? []).includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        throw new Error(`unknown operator ${e.operator}`);
    }
  });
}

/** Labels of a namespace: the API server always sets kubernetes.io/metadata.name. */
export function namespaceLabels(name: string, mode?: string): Record<string, string> {
  return {
    "kubernetes.io/metadata.name": name,
    ...(mode === undefined ? {} : { "tollgate.dev/mode": mode }),
  };
}

let policySetDir: string | undefined;

/** Loads the rendered ConfigMap's policyset.yaml exactly as `tollgate serve --config` would. */
export function loadRenderedPolicySet(objects: KubeObject[], label: string): ResolvedPolicySet {
  const configMap = find(objects, "ConfigMap", "tollgate-policyset");
  const text = (configMap.data as Record<string, string>)["policyset.yaml"];
  if (text === undefined) throw new Error("ConfigMap has no policyset.yaml");
  policySetDir ??= mkdtempSync(join(tmpdir(), "tollgate-deploy-"));
  const file = join(policySetDir, `${label.replaceAll("/", "-")}.yaml`);
  writeFileSync(file, text);
  return loadPolicySetFile(shippedPolicies(), file);
}
