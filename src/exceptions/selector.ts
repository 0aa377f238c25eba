/** A Kubernetes label selector: every term must hold; an empty selector selects everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string> | undefined;
  matchExpressions?: SelectorRequirement[] | undefined;
}

export interface SelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[] | undefined;
}

/** Whether `labels` satisfy `selector`, with the API server's semantics. */
export function selects(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const holds =
      operator === "Exists"
        ? has
        : operator === "DoesNotExist"
          ? !has
          : operator === "In"
            ? has && values.includes(labels[key] as string)
            : // NotIn also selects objects without the key, as in Kubernetes.
              !has || !values.includes(labels[key] as string);
    if (!holds) return false;
  }
  return true;
}
