import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { YAML_OPTIONS } from "./scalars.js";

/**
 * `spec.containers[0].image` or `metadata.labels["app.kubernetes.io/name"]`
 * back into segments: the inverse of the engine's `toFieldPath`.
 */
export function fieldPathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const token = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  while (token.lastIndex < path.length) {
    const at = token.lastIndex;
    const match = token.exec(path);
    if (!match) {
      // Not a path this module writes; what was read so far still locates.
      segments.push(path.slice(at));
      break;
    }
    const [, name, index, quoted] = match;
    if (name !== undefined) segments.push(name);
    else if (index !== undefined) segments.push(Number(index));
    else segments.push(JSON.parse(quoted as string) as string);
  }
  return segments;
}

/**
 * Finds lines in `text` (one YAML or JSON document), parsing it once on the
 * first call. For a path it gives the 1-based line of the deepest part the
 * document writes out: the key of a mapping entry, or the item of a list; a
 * field that is missing is located at its nearest parent.
 */
export function documentLocator(
  text: string,
): (path: readonly (string | number)[]) => number | undefined {
  let parsed: { root: unknown; lines: LineCounter } | undefined;
  return (path) => {
    if (!parsed) {
      const lines = new LineCounter();
      parsed = {
        root: parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines }).contents,
        lines,
      };
    }
    let node = parsed.root;
    let offset = (node as Node | null)?.range?.[0];
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(segment),
        );
        if (!pair || !isScalar(pair.key)) break;
        offset = pair.key.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
        node = node.items[segment];
        offset = (node as Node).range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : parsed.lines.linePos(offset).line;
  };
}
