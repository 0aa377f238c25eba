// Namespaces of one suite run. Names are unique per run (e2e-<suite>-<random>):
// the control plane is shared with other suites and reused across runs, and
// without a namespace controller a deleted namespace stays Terminating forever,
// so names are never reused.
import { randomBytes } from "node:crypto";
import { api, cluster } from "./cluster.js";

export type Mode = "enforce" | "warn" | "audit" | "off";

export const MODE_LABEL = "tollgate.dev/mode";

const created: string[] = [];

/** A fresh DNS-1123 name: `e2e-<suite>-<6 hex>[-<suffix>]`. */
export function uniqueName(suite: string, suffix?: string): string {
  const id = randomBytes(3).toString("hex");
  return [`e2e-${suite}-${id}`, suffix].filter(Boolean).join("-");
}

/**
 * Creates a namespace; with a mode it carries `tollgate.dev/mode=<mode>`,
 * without one it is unlabelled (enforced cluster-wide, untouched opt-in).
 */
export async function createNamespace(suite: string, mode?: Mode): Promise<string> {
  const name = uniqueName(suite, mode ?? "unlabelled");
  await api().core.createNamespace({
    body: { metadata: { name, labels: mode ? { [MODE_LABEL]: mode } : {} } },
  });
  created.push(name);
  return name;
}

/**
 * Deletes this file's namespaces on an external cluster (kind has a namespace
 * controller). On the local control plane they are left alone: deletion would
 * only leave them Terminating, and the state dir is thrown away by
 * `npm run cluster:down -- --clean` anyway.
 */
export async function cleanupNamespaces(): Promise<void> {
  const names = created.splice(0);
  if (cluster().kind === "local") return;
  await Promise.all(
    names.map((name) =>
      api()
        .core.deleteNamespace({ name })
        .catch(() => undefined),
    ),
  );
}
