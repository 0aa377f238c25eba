// The ValidatingAdmissionPolicy corpus of test/e2e/vap/: policies, bindings,
// params and namespaces in policies.yaml, one object per case in cases.yaml.
// Shared by the differential e2e test and the offline unit test.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../src/engine/index.js";

export const CORPUS_DIR = fileURLToPath(new URL("../vap/", import.meta.url));
export const CORPUS_POLICIES = join(CORPUS_DIR, "policies.yaml");
export const CORPUS_CASES = join(CORPUS_DIR, "cases.yaml");

export type Expectation = "admit" | "warn" | "deny";
export const EXPECT_ANNOTATION = "corpus.tollgate.test/expect";

export function corpusDocuments(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as KubeObject);
}

export function expectationOf(object: KubeObject): Expectation {
  const value = object.metadata?.annotations?.[EXPECT_ANNOTATION];
  if (value !== "admit" && value !== "warn" && value !== "deny") {
    throw new Error(`case ${object.metadata?.name} has no ${EXPECT_ANNOTATION}`);
  }
  return value;
}

/** `Kind ns/name`, how a case is named in failures. */
export function caseName(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ""}${object.metadata?.name}`;
}

/** A PolicySet with every shipped Tollgate policy switched off: only the VAPs decide. */
export function policiesOffConfig(ids: readonly string[]): string {
  return [
    "apiVersion: tollgate.dev/v1alpha1",
    "kind: PolicySet",
    "policies:",
    ...ids.map((id) => `  ${id}: { enabled: false }`),
    "",
  ].join("\n");
}
