// The AKS profile's namespaces are data (deploy/components/aks/namespaces.yaml):
// every name says what runs there and which Microsoft page installs it, and
// both the kustomize component and the chart's aks.enabled exempt exactly
// those names from every webhook, and nothing else.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmTemplate } from "./helm.js";
import { DEPLOY, namespaceLabels, render, selects, webhooksOf } from "./render.js";

interface NamespaceList {
  names: string[];
  sources: Record<string, { runs?: string; source?: string }>;
}

const data = parse(
  readFileSync(`${DEPLOY}components/aks/namespaces.yaml`, "utf8"),
) as NamespaceList;

describe("deploy/components/aks/namespaces.yaml", () => {
  it("lists each namespace once, in order, as a DNS label", () => {
    expect(data.names.length).toBeGreaterThan(0);
    expect(data.names).toEqual([...new Set(data.names)].sort());
    for (const name of data.names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it("says for each namespace what runs there and where Microsoft documents it", () => {
    expect(Object.keys(data.sources).sort()).toEqual(data.names);
    for (const [name, entry] of Object.entries(data.sources)) {
      expect(entry.runs, name).toMatch(/\S/);
      expect(entry.source, name).toMatch(/^https:\/\/learn\.microsoft\.com\/azure\//);
    }
  });
});

describe.each([
  [
    "kustomize: overlays/cluster-wide + components/aks",
    () => render("../test/deploy/helm-overlays/aks"),
  ],
  ["helm: aks.enabled=true", () => helmTemplate({ "aks.enabled": "true" })],
])("%s", (_name, objects) => {
  const webhooks = webhooksOf(objects());

  it("no webhook intercepts an AKS namespace, whatever its labels", () => {
    expect(webhooks.length).toBe(4);
    for (const w of webhooks) {
      for (const name of data.names) {
        for (const mode of [undefined, "enforce", "warn", "audit"]) {
          expect(selects(w, namespaceLabels(name, mode)), `${w.name} ${name} ${mode}`).toBe(false);
        }
      }
    }
  });

  it("exempts them in one term holding exactly the listed names", () => {
    for (const w of webhooks) {
      const terms = (w.namespaceSelector?.matchExpressions ?? []).filter(
        (e) =>
          e.key === "kubernetes.io/metadata.name" &&
          e.operator === "NotIn" &&
          (e.values ?? []).includes(data.names[0] as string),
      );
      expect(
        terms.map((t) => t.values),
        w.name,
      ).toEqual([data.names]);
    }
  });

  it("other namespaces are still enforced", () => {
    const enforce = webhooks.find((w) => w.name === "enforce.tollgate.dev");
    expect(enforce && selects(enforce, namespaceLabels("team-a"))).toBe(true);
  });
});
