import { z } from "zod";
import {
  controllerOf,
  definePolicy,
  type Finding,
  type ObjectMeta,
  type Path,
  toFieldPath,
} from "../../src/engine/index.js";

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function missing(meta: ObjectMeta | undefined, keys: readonly string[]): string[] {
  return keys.filter((key) => {
    const value = meta?.labels?.[key];
    return typeof value !== "string" || value === "";
  });
}

export default definePolicy({
  id: "required-labels",
  scope: "object",
  parameters: z
    .object({
      labels: z
        .array(z.string().regex(LABEL_KEY, "must be a label key such as app.kubernetes.io/name"))
        .min(1),
    })
    .strict(),
  validate({ object, pod }, { labels }) {
    // A controller stamps its own labels on what it creates; the owner was checked instead.
    if (controllerOf(object)) return [];
    const findings: Finding[] = [];
    // A Pod is its own template; other workloads carry one below metadata.
    const template = pod && pod.metadataPath.length > 1 ? pod.metadataPath : undefined;
    const onTemplate = new Set(template && pod ? missing(pod.metadata, labels) : []);
    const under = (at: Path) => toFieldPath([...at, "labels"]);
    for (const key of missing(object.metadata, labels)) {
      // Missing on both is one fault with one fix, reported once.
      const both = template && onTemplate.delete(key);
      findings.push({
        message: both
          ? `has no "${key}" label, nor has its pod template; add it with a non-empty value under ${under(["metadata"])} and ${under(template)}`
          : `has no "${key}" label; add it with a non-empty value under ${under(["metadata"])}`,
        path: ["metadata", "labels", key],
      });
    }
    for (const key of onTemplate) {
      findings.push({
        message: `has a pod template with no "${key}" label; add it with a non-empty value under ${under(template as Path)}`,
        path: [...(template as Path), "labels", key],
      });
    }
    return findings;
  },
});
