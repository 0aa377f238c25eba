import { z } from "zod";
import { definePolicy, type Finding, getAt, type Path } from "../../src/engine/index.js";
import { replicasOf } from "../../src/engine/kit/index.js";

interface Rule {
  topologyKey: unknown;
  path: Path;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Every topology key the pod spec spreads or separates on, with where it is set. */
function spreadingRules(spec: unknown, specPath: Path): Rule[] {
  const rules: Rule[] = [];
  list(getAt(spec, ["topologySpreadConstraints"])).forEach((constraint, i) => {
    rules.push({
      topologyKey: getAt(constraint, ["topologyKey"]),
      path: [...specPath, "topologySpreadConstraints", i, "topologyKey"],
    });
  });
  const anti: Path = ["affinity", "podAntiAffinity"];
  const required = [...anti, "requiredDuringSchedulingIgnoredDuringExecution"];
  list(getAt(spec, required)).forEach((term, i) => {
    rules.push({
      topologyKey: getAt(term, ["topologyKey"]),
      path: [...specPath, ...required, i, "topologyKey"],
    });
  });
  const preferred = [...anti, "preferredDuringSchedulingIgnoredDuringExecution"];
  list(getAt(spec, preferred)).forEach((term, i) => {
    rules.push({
      topologyKey: getAt(term, ["podAffinityTerm", "topologyKey"]),
      path: [...specPath, ...preferred, i, "podAffinityTerm", "topologyKey"],
    });
  });
  return rules;
}

export default definePolicy({
  id: "pod-spreading",
  scope: "object",
  parameters: z.object({ topologyKeys: z.array(z.string().min(1)).min(1) }).strict(),
  validate({ object, pod }, { topologyKeys }) {
    const replicas = replicasOf(object);
    if (replicas === undefined || replicas <= 1) return [];
    if (!pod) return [];
    const rules = spreadingRules(pod.spec, pod.specPath);
    if (
      rules.some((r) => typeof r.topologyKey === "string" && topologyKeys.includes(r.topologyKey))
    ) {
      return [];
    }
    const keys = topologyKeys.join(" or ");
    const [first] = rules;
    const finding: Finding = first
      ? {
          message: `runs ${replicas} replicas but spreads them only on ${JSON.stringify(first.topologyKey ?? null)}; use topologyKey ${keys} so one node or zone failing cannot take every replica`,
          path: first.path,
        }
      : {
          message: `runs ${replicas} replicas with nothing keeping them apart; add a topologySpreadConstraints entry or a podAntiAffinity term with topologyKey ${keys}`,
          path: [...pod.specPath, "topologySpreadConstraints"],
        };
    return [finding];
  },
});
