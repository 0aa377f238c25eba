import { z } from "zod";
import {
  definePolicy,
  type Finding,
  type ObjectMeta,
  type Path,
  podTargetOf,
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
  validate({ object, resource }, { labels }) {
    // A controller stamps its own labels on what it creates; the owner was checked instead.
    const owners = object.metadata?.ownerReferences;
    if (Array.isArray(owners) && owners.some((ref) => ref?.controller === true)) return [];
    const findings: Finding[] = [];
    const report = (meta: ObjectMeta | undefined, at: Path, subject: string) => {
      for (const key of missing(meta, labels)) {
        findings.push({
          message: `${subject} no "${key}" label; add it with a non-empty value under ${toFieldPath([...at, "labels"])}`,
          path: [...at, "labels", key],
        });
      }
    };
    report(object.metadata, ["metadata"], "has");
    const pod = podTargetOf(object, resource);
    if (pod && pod.metadataPath.length > 1)
      report(pod.metadata, pod.metadataPath, "has a pod template with");
    return findings;
  },
});
