import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  CHECK_SCOPES,
  type ClusterCheckDeclaration,
  type ClusterCheckModule,
} from "../engine/index.js";
import {
  checkChecklistItem,
  checkId,
  checkRegistryOrder,
  parseYamlFile,
  type Registry,
  readTextFile,
  validateParameters,
} from "./declarations.js";
import { PolicyLoadError, parseOrThrow } from "./errors.js";
import { checkDeclarationShape } from "./schema.js";

/** The data half of a cluster check: `policies/cluster/<id>/check.yaml`. */
export const clusterCheckSchema = z
  .object({ ...checkDeclarationShape, scope: z.enum(CHECK_SCOPES) })
  .strict();

export interface LoadedClusterCheck {
  module: ClusterCheckModule;
  declaration: ClusterCheckDeclaration;
  file: string;
}

function loadOne(module: ClusterCheckModule, directory: URL): LoadedClusterCheck {
  const file = fileURLToPath(new URL(`cluster/${module.id}/check.yaml`, directory));
  const raw = parseOrThrow(clusterCheckSchema, parseYamlFile(readTextFile(file), file), file);
  checkId(raw.id, module.id, file);
  checkChecklistItem(raw.checklist, file);
  const parameters = validateParameters(module, raw.parameters, file, ["parameters"]);
  return { module, declaration: { ...raw, parameters }, file };
}

/**
 * Reads and validates the check.yaml of every cluster check the registry
 * names; fails on the first problem, naming the file and field. A check may
 * not share an id with a policy: findings and reports name both by id.
 */
export function loadClusterChecks(registry: Registry): LoadedClusterCheck[] {
  const registryFile = fileURLToPath(new URL("index.ts", registry.directory));
  checkRegistryOrder(registry.clusterChecks, registryFile, "clusterChecks");
  const policies = new Set(registry.modules.map((m) => m.id));
  registry.clusterChecks.forEach((check, index) => {
    if (policies.has(check.id)) {
      throw new PolicyLoadError(
        registryFile,
        `clusterChecks[${index}]`,
        `"${check.id}" is also the id of a policy`,
      );
    }
  });
  return registry.clusterChecks.map((module) => loadOne(module, registry.directory));
}
