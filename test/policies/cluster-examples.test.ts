// One generic test over every cluster check's shipped examples: adding a
// folder under policies/cluster/ with examples is enough for it to be covered.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { registry } from "../../policies/index.js";
import { CHECK_KINDS } from "../../src/audit/kinds.js";
import type {
  CheckOutcome,
  KubeObject,
  Observation,
  ServerVersion,
} from "../../src/engine/index.js";
import { type LoadedClusterCheck, loadClusterChecks } from "../../src/policyset/index.js";

/** One example cluster, as an examples/*.yaml document writes it. */
interface ExampleCluster {
  namespaces?: string[];
  objects?: KubeObject[];
  serverVersion?: ServerVersion;
  /** Names of the subjects the check must fail (`cluster` for the cluster as a whole). */
  failing?: string[];
}

function examples(id: string, name: "pass" | "fail"): ExampleCluster[] {
  const file = fileURLToPath(new URL(`cluster/${id}/examples/${name}.yaml`, registry.directory));
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as ExampleCluster);
}

/** What the audit would hand the check after listing the example's objects. */
function judge({ module, declaration }: LoadedClusterCheck, cluster: ExampleCluster) {
  const observed: Observation<unknown>[] = [];
  for (const object of cluster.objects ?? []) {
    const kind = object.kind ?? "";
    const namespace = object.metadata?.namespace ?? "";
    if (!module.observes.includes(kind)) continue;
    const fact = module.observe?.(object, kind);
    const name = object.metadata?.name ?? "";
    const subject = { apiVersion: object.apiVersion ?? "", kind, namespace, name };
    if (fact !== undefined) observed.push({ namespace, subject, fact });
  }
  const facts = {
    namespaces: [...(cluster.namespaces ?? [])].sort(),
    observed,
    serverVersion: cluster.serverVersion,
  };
  return module.judge(facts, declaration.parameters);
}

const subjectName = (o: CheckOutcome) =>
  o.status === "unknown" ? "unknown" : (o.subject?.name ?? "cluster");

describe.each(loadClusterChecks(registry).map((c) => [c.declaration.id, c] as const))(
  "cluster check %s",
  (_id, check) => {
    const pass = examples(check.declaration.id, "pass");
    const fail = examples(check.declaration.id, "fail");

    it("ships pass and fail examples", () => {
      expect(pass.length).toBeGreaterThan(0);
      expect(fail.length).toBeGreaterThan(0);
    });

    it("is shown every kind it observes: the audit lists them", () => {
      for (const kind of check.module.observes) expect(CHECK_KINDS).toContain(kind);
    });

    it.each(pass.map((c, i) => [i, c] as const))("passes example %i", (_i, cluster) => {
      const outcomes = judge(check, cluster);
      expect(outcomes.length).toBeGreaterThan(0);
      expect(outcomes.map((o) => o.status)).toEqual(outcomes.map(() => "pass"));
    });

    it.each(fail.map((c, i) => [i, c] as const))("fails example %i", (_i, cluster) => {
      const outcomes = judge(check, cluster);
      const failed = outcomes.filter((o) => o.status === "fail");
      expect(failed.map(subjectName).sort()).toEqual([...(cluster.failing ?? [])].sort());
      expect(failed.length).toBeGreaterThan(0);
      for (const o of failed) expect(o.message.length).toBeGreaterThan(20);
      expect(outcomes.some((o) => o.status === "unknown")).toBe(false);
    });
  },
);
