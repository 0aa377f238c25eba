import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, YAMLParseError } from "yaml";
import {
  type ChecklistMapping,
  type ClusterCheckModule,
  isChecklistItem,
  type PolicyDeclaration,
  type PolicyModule,
  WORKLOAD_KINDS,
} from "../engine/index.js";
import type { CelPolicySource } from "./cel-policies.js";
import { PolicyLoadError, parseOrThrow } from "./errors.js";
import { declarationSchema } from "./schema.js";

export interface Registry {
  /** Sorted by id; each id is also its folder's name. */
  modules: readonly PolicyModule[];
  /** Sorted by id; each id is also the name of its folder under `cluster/`. */
  clusterChecks: readonly ClusterCheckModule[];
  /** The folder that holds one sub-folder per policy, and cluster/. */
  directory: URL;
}

export interface LoadedPolicy {
  module: PolicyModule;
  declaration: PolicyDeclaration;
  file: string;
  /** A CEL policy of the PolicySet: its source as written (built-in policies have none). */
  cel?: CelPolicySource | undefined;
}

/** Parses YAML text, turning syntax errors into a message with file and line. */
export function parseYamlFile(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const line = error.linePos?.[0];
      const where = line ? `line ${line.line}, column ${line.col}` : "";
      throw new PolicyLoadError(file, where, `invalid YAML: ${error.message.split("\n")[0]}`);
    }
    throw error;
  }
}

export function readTextFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new PolicyLoadError(file, "", `cannot read file (${code})`);
  }
}

export function checkRegistryOrder(
  modules: readonly { id: string }[],
  file: string,
  field = "modules",
): void {
  modules.forEach((module, index) => {
    const previous = modules[index - 1];
    if (previous && previous.id >= module.id) {
      throw new PolicyLoadError(
        file,
        `${field}[${index}]`,
        `"${module.id}" must come after "${previous.id}": the registry is sorted and unique`,
      );
    }
  });
}

/** Parameters must satisfy the module's schema; the declared values are the defaults. */
export function validateParameters(
  module: { parameters: PolicyModule["parameters"] },
  parameters: unknown,
  file: string,
  field: readonly PropertyKey[],
): unknown {
  return parseOrThrow(module.parameters, parameters, file, field);
}

/** The folder name and the id inside must agree. */
export function checkId(declared: string, id: string, file: string): void {
  if (declared !== id) {
    throw new PolicyLoadError(file, "id", `is "${declared}" but the folder and code say "${id}"`);
  }
}

export function checkChecklistItem(
  checklist: { section: string; item: string },
  file: string,
  field = "checklist",
) {
  if (!isChecklistItem(checklist.section, checklist.item)) {
    throw new PolicyLoadError(
      file,
      field,
      `"${checklist.section}" / "${checklist.item}" is not an item of the AKS checklist`,
    );
  }
}

/**
 * A policy's checklist entries: each an item of the catalogue, no item
 * twice, and each `part` one of the policy's boolean parameters, named once.
 */
function checkChecklistMappings(
  checklist: readonly ChecklistMapping[],
  parameters: unknown,
  file: string,
): void {
  const params = (parameters ?? {}) as Record<string, unknown>;
  const items = new Set<string>();
  const parts = new Set<string>();
  checklist.forEach((mapping, index) => {
    const field = checklist.length === 1 ? "checklist" : `checklist[${index}]`;
    checkChecklistItem(mapping, file, field);
    const key = `${mapping.section}/${mapping.item}`;
    if (items.has(key)) throw new PolicyLoadError(file, field, "names an item already listed");
    items.add(key);
    const { part } = mapping;
    if (part === undefined) return;
    if (typeof params[part] !== "boolean") {
      throw new PolicyLoadError(file, `${field}.part`, `"${part}" is not a boolean parameter`);
    }
    if (parts.has(part))
      throw new PolicyLoadError(file, `${field}.part`, `"${part}" is named twice`);
    parts.add(part);
  });
}

function loadOne(module: PolicyModule, directory: URL): LoadedPolicy {
  const url = new URL(`${module.id}/policy.yaml`, directory);
  const file = fileURLToPath(url);
  const raw = parseOrThrow(declarationSchema, parseYamlFile(readTextFile(file), file), file);
  checkId(raw.id, module.id, file);
  if (raw.type === "validate" && !module.validate) {
    throw new PolicyLoadError(file, "type", "is validate but the code has no validate function");
  }
  if (raw.type === "mutate" && !module.mutate) {
    throw new PolicyLoadError(file, "type", "is mutate but the code has no mutate function");
  }
  const parameters = validateParameters(module, raw.parameters, file, ["parameters"]);
  checkChecklistMappings(raw.checklist, parameters, file);
  const kinds = raw.match.kinds ?? (module.scope === "pod" ? [...WORKLOAD_KINDS] : undefined);
  if (!kinds) {
    throw new PolicyLoadError(file, "match.kinds", "is required for policies about whole objects");
  }
  const declaration: PolicyDeclaration = {
    ...raw,
    parameters,
    match: { ...raw.match, kinds },
  };
  return { module, declaration, file };
}

/** Reads and validates every policy.yaml the registry names; fails on the first problem. */
export function loadDeclarations(registry: Registry): LoadedPolicy[] {
  const registryFile = fileURLToPath(new URL("index.ts", registry.directory));
  checkRegistryOrder(registry.modules, registryFile);
  const loaded = registry.modules.map((module) => loadOne(module, registry.directory));
  const ids = new Set(loaded.map((p) => p.declaration.id));
  for (const { declaration, file } of loaded) {
    const unknown = declaration.sameFaultAs.find((id) => !ids.has(id));
    if (unknown !== undefined) {
      throw new PolicyLoadError(file, "sameFaultAs", `names the unknown policy "${unknown}"`);
    }
  }
  return loaded;
}
