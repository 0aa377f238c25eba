// Renders charts/tollgate with the helm built by test/deploy/tools/build.sh, and
// normalises rendered objects so the chart and deploy/ can be compared.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import type { KubeObject } from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";
import { REPO } from "./render.js";

export const CHART = `${REPO}charts/tollgate`;
const TOOLS_BUILD = `${REPO}test/deploy/tools/build.sh`;

let toolsDir: string | undefined;

/**
 * A tool built by test/deploy/tools/build.sh (helm, kustomize, promtool).
 * Throws, never skips, when it has not been built.
 */
export function tool(name: "helm" | "kustomize" | "promtool"): string {
  toolsDir ??= execFileSync("bash", [TOOLS_BUILD, "--print-dir"], { encoding: "utf8" }).trim();
  const path = `${toolsDir}/${name}`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`no ${path}: build it with \`bash test/deploy/tools/build.sh\``);
  }
  return path;
}

/** Runs helm; the result keeps stdout, stderr and the exit status. */
export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(tool("helm"), args, {
    encoding: "utf8",
    timeout: 60_000,
    // No user configuration or repositories leak into the tests.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: "/nonexistent",
      HELM_CACHE_HOME: "/tmp/tollgate-helm-cache",
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` of the chart with `--set` pairs, as objects; throws on a failure. */
export function helmTemplate(set: Record<string, string> = {}, extra: string[] = []): KubeObject[] {
  const args = ["template", "tollgate", CHART, "--namespace", "tollgate-system", ...extra];
  for (const [key, value] of Object.entries(set)) args.push("--set", `${key}=${value}`);
  const result = helm(args);
  if (result.status !== 0) throw new Error(`helm ${args.join(" ")}: ${result.stderr}`);
  const parsed = parseManifests(result.stdout, "helm template");
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  return parsed.objects.map((o) => o.object);
}

const MANAGED_BY = "app.kubernetes.io/managed-by";

/**
 * What must match between the chart and deploy/: every object, field by field,
 * except the manager label (Helm vs kustomize), the policy set's text, which
 * is compared as the YAML it holds (comments and layout differ), and the
 * layout of multi-line strings.
 */
export function normalise(objects: KubeObject[]): KubeObject[] {
  return objects
    .map((original) => {
      const o = structuredClone(original);
      dropManagedBy(o);
      if (o.kind === "ConfigMap" && o.metadata?.name === "tollgate-policyset") {
        const data = o.data as Record<string, string>;
        const parsed = parseManifests(data["policyset.yaml"] ?? "", "policyset.yaml");
        o.data = { "policyset.yaml": parsed.objects.map((p) => p.object) };
      }
      return collapseLayout(o) as KubeObject;
    })
    .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/**
 * Multi-line strings (CEL expressions, the dashboard's JSON) with whitespace
 * collapsed: kustomize re-folds `>-` scalars, which neither CEL nor JSON reads.
 */
function collapseLayout(node: unknown): unknown {
  if (typeof node === "string")
    return node.includes("\n") ? node.replace(/\s+/g, " ").trim() : node;
  if (Array.isArray(node)) return node.map(collapseLayout);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, collapseLayout(v)]));
}

/** Removes the manager label from every `labels` map, the pod template's too. */
function dropManagedBy(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropManagedBy(item);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const record = node as Record<string, unknown>;
  const labels = record.labels as Record<string, unknown> | undefined;
  if (labels && typeof labels === "object") {
    delete labels[MANAGED_BY];
    if (Object.keys(labels).length === 0) delete record.labels;
  }
  for (const value of Object.values(record)) dropManagedBy(value);
}

export function keyOf(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}
