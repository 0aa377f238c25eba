import { z } from "zod";
import {
  type Container,
  containersOf,
  definePolicy,
  getAt,
  type PatchOperation,
  type Path,
} from "../../src/engine/index.js";
import { addIfAbsent, declaredResource, parseQuantity } from "../../src/engine/kit/index.js";

const quantity = z
  .string()
  .refine(
    (value) => (parseQuantity(value) ?? -1) > 0,
    "must be a positive quantity such as 100m or 128Mi",
  );

const parameters = z
  .object({
    cpuRequest: quantity,
    memoryRequest: quantity,
    memoryLimit: quantity,
    cpuLimit: quantity.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((parseQuantity(p.memoryLimit) ?? 0) < (parseQuantity(p.memoryRequest) ?? 0)) {
      ctx.addIssue({
        code: "custom",
        path: ["memoryLimit"],
        message: "must not be below memoryRequest",
      });
    }
    if (
      p.cpuLimit !== undefined &&
      (parseQuantity(p.cpuLimit) ?? 0) < (parseQuantity(p.cpuRequest) ?? 0)
    ) {
      ctx.addIssue({ code: "custom", path: ["cpuLimit"], message: "must not be below cpuRequest" });
    }
  });

type Resource = "cpu" | "memory";
type Values = Record<string, string | number>;

/**
 * The limit to add: the default, or the container's own request when that is
 * larger, so the result is always valid. Undefined when the request is unreadable.
 */
function limitFor(container: Container, resource: Resource, fallback: string) {
  const request = declaredResource(container, "requests", resource);
  if (request === undefined) return fallback;
  const requested = parseQuantity(request);
  if (requested === undefined) return undefined;
  return requested > (parseQuantity(fallback) ?? 0) ? request : fallback;
}

/** Adds each leaf of `value` that is missing under `path`, one operation per missing subtree. */
function fillMissing(root: unknown, path: Path, value: Record<string, unknown>): PatchOperation[] {
  const existing = getAt(root, path);
  if (existing === undefined || existing === null) return addIfAbsent(root, path, value);
  if (typeof existing !== "object" || Array.isArray(existing)) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    child !== null && typeof child === "object"
      ? fillMissing(root, [...path, key], child as Record<string, unknown>)
      : addIfAbsent(root, [...path, key], child),
  );
}

export default definePolicy({
  id: "resource-defaults",
  scope: "pod",
  parameters,
  mutate(pod, p) {
    const ops: PatchOperation[] = [];
    for (const c of containersOf(pod)) {
      if (c.group === "ephemeralContainers") continue;
      const requests: Values = {};
      const limits: Values = {};
      const { container } = c;
      for (const [resource, request] of [
        ["cpu", p.cpuRequest],
        ["memory", p.memoryRequest],
      ] as const) {
        const unset =
          declaredResource(container, "requests", resource) === undefined &&
          declaredResource(container, "limits", resource) === undefined;
        if (unset) requests[resource] = request;
      }
      for (const [resource, limit] of [
        ["memory", p.memoryLimit],
        ["cpu", p.cpuLimit],
      ] as const) {
        if (limit === undefined || declaredResource(container, "limits", resource) !== undefined)
          continue;
        const value = limitFor(container, resource, limit);
        if (value !== undefined) limits[resource] = value;
      }
      const wanted: Record<string, Values> = {};
      if (Object.keys(requests).length > 0) wanted.requests = requests;
      if (Object.keys(limits).length > 0) wanted.limits = limits;
      if (Object.keys(wanted).length === 0) continue;
      ops.push(...fillMissing(pod.object, [...c.path, "resources"], wanted));
    }
    return ops;
  },
});
