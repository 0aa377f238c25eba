/**
 * Objects nested deeper than this are not evaluated. Real Kubernetes objects
 * stay under ~30 levels; the engine clones and compares objects recursively,
 * and about 5,000 levels exhaust the stack.
 */
export const MAX_OBJECT_DEPTH = 200;

/**
 * Whether `value` nests objects or arrays more than `limit` levels deep
 * (the value itself is level 1). Iterative, so any depth is safe to measure,
 * and it stops at the first branch past the limit. It runs on every object
 * of every request, so it walks keys in place instead of collecting each
 * node's values into an array and each step into a tuple (~13 KB of garbage
 * for a Deployment, issue 15).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit < 1) return true;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    const child = (depths.pop() ?? 0) + 1;
    if (Array.isArray(node)) {
      for (const item of node) {
        if (item === null || typeof item !== "object") continue;
        if (child > limit) return true;
        nodes.push(item);
        depths.push(child);
      }
      continue;
    }
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      const item = (node as Record<string, unknown>)[key];
      if (item === null || typeof item !== "object") continue;
      if (child > limit) return true;
      nodes.push(item);
      depths.push(child);
    }
  }
  return false;
}
