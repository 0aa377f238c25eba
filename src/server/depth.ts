/**
 * Objects nested deeper than this are not evaluated. Real Kubernetes objects
 * stay under ~30 levels; the engine clones and compares objects recursively,
 * and about 5,000 levels exhaust the stack.
 */
export const MAX_OBJECT_DEPTH = 200;

/**
 * Whether `value` nests objects or arrays more than `limit` levels deep
 * (the value itself is level 1). Iterative, so any depth is safe to measure,
 * and it stops at the first branch past the limit.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}
