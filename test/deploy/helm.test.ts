// charts/tollgate renders what deploy/ renders: for each kustomize overlay (and
// each combination of components a user would build), the chart under the
// matching values yields the same objects, compared field by field after
// normalise(). Every overlay and component in deploy/ must have a case here, so
// a change to deploy/ that the chart does not follow fails this test.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Container, KubeObject, PodSpec } from "../../src/engine/index.js";
import { CHART, helm, helmTemplate, keyOf, normalise } from "./helm.js";
import {
  DEPLOY,
  loadRenderedPolicySet,
  namespaceLabels,
  render,
  selects,
  WEBHOOK_KINDS,
  webhooksOf,
} from "./render.js";

const FIXTURES = "../test/deploy/helm-overlays";

/** kustomize directory (relative to deploy/) -> the chart values that match it. */
const CASES: [string, Record<string, string>][] = [
  ["base", {}],
  ["overlays/cluster-wide", {}],
  ["overlays/opt-in", { mode: "opt-in" }],
  ["overlays/cert-manager", { "certificates.source": "cert-manager" }],
  ["overlays/cluster-wide-audit", { "backgroundAudit.enabled": "true" }],
  [
    "overlays/cert-manager-audit",
    { "certificates.source": "cert-manager", "backgroundAudit.enabled": "true" },
  ],
  [
    "overlays/node",
    {
      "image.repository": "tollgate.local/tollgate",
      "image.tag": "node",
      "image.pullPolicy": "Never",
    },
  ],
  [`${FIXTURES}/aks`, { "aks.enabled": "true" }],
  [`${FIXTURES}/aks-opt-in`, { "aks.enabled": "true", mode: "opt-in" }],
  [`${FIXTURES}/opt-in-cert-manager`, { mode: "opt-in", "certificates.source": "cert-manager" }],
  [`${FIXTURES}/opt-in-audit`, { mode: "opt-in", "backgroundAudit.enabled": "true" }],
  [
    `${FIXTURES}/openreports`,
    { "backgroundAudit.enabled": "true", "backgroundAudit.reportApi": "openreports" },
  ],
  [
    `${FIXTURES}/cert-manager-openreports`,
    {
      "certificates.source": "cert-manager",
      "backgroundAudit.enabled": "true",
      "backgroundAudit.reportApi": "openreports",
    },
  ],
  [`${FIXTURES}/monitoring`, { "monitoring.enabled": "true" }],
  [`${FIXTURES}/vap`, { "validatingAdmissionPolicies.enabled": "true" }],
  [
    `${FIXTURES}/monitoring-cert-manager`,
    { "monitoring.enabled": "true", "certificates.source": "cert-manager" },
  ],
];

/** Overlays that do not install Tollgate in the cluster, so have no chart equivalent. */
const OUTSIDE_THE_CHART = new Set(["overlays/localhost", "overlays/localhost-opt-in"]);

describe.each(CASES)("helm template with the values of %s", (dir, values) => {
  it("renders the same objects as kustomize", () => {
    const fromChart = normalise(helmTemplate(values));
    const fromKustomize = normalise(render(dir));
    expect(fromChart.map(keyOf)).toEqual(fromKustomize.map(keyOf));
    for (const [i, expected] of fromKustomize.entries()) {
      expect(fromChart[i], keyOf(expected)).toEqual(expected);
    }
  });
});

describe("coverage of deploy/", () => {
  const covered = CASES.map(([dir]) => dir).join("\n");

  it.each(readdirSync(`${DEPLOY}overlays`))("overlays/%s has a chart case", (name) => {
    if (OUTSIDE_THE_CHART.has(`overlays/${name}`)) return;
    expect(CASES.map(([dir]) => dir)).toContain(`overlays/${name}`);
  });

  it.each(readdirSync(`${DEPLOY}components`))(
    "components/%s is compared with the chart",
    (name) => {
      const usedBy = [...CASES.map(([dir]) => dir)].filter((dir) =>
        componentsOf(dir).includes(name),
      );
      expect(usedBy, `no case renders deploy/components/${name}; covered:\n${covered}`).not.toEqual(
        [],
      );
    },
  );
});

/** The deploy/components a kustomization directory uses, directly or through its resources. */
function componentsOf(dir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const text = readKustomization(path);
    for (const match of text.matchAll(/components\/([a-z0-9-]+)/g)) found.push(match[1] as string);
    for (const match of text.matchAll(/(\.\.\/[^\s,\]]*(?:overlays|base)[^\s,\]]*)/g)) {
      visit(new URL(`${match[1]}/`, `file://${path}`).pathname);
    }
  };
  visit(`${DEPLOY}${dir}/`);
  return found;
}

function readKustomization(path: string): string {
  return readFileSync(`${path}kustomization.yaml`, "utf8");
}

describe("chart values", () => {
  it("pass helm lint without warnings", () => {
    const result = helm(["lint", CHART]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each([
    [{ mode: "everywhere" }, "/mode"],
    [{ replicas: "1" }, "/replicas"],
    [{ "certificates.source": "vault" }, "/certificates/source"],
    [{ "backgroundAudit.interval": "hourly" }, "/backgroundAudit/interval"],
    [{ "backgroundAudit.reportApi": "v1alpha2" }, "/backgroundAudit/reportApi"],
    [{ webhookUrl: "http://127.0.0.1:9443" }, "/webhookUrl"],
    [{ "validatingAdmissionPolicies.enabled": "yes" }, "/validatingAdmissionPolicies/enabled"],
    [{ webhookUrl: "https://127.0.0.1:9443/validate" }, "/webhookUrl"],
    [{ "exemptNamespaces[0]": "Not_A_Name" }, "/exemptNamespaces/0"],
    [{ typo: "1" }, "typo"],
  ])("refuse %j, naming %s", (set, where) => {
    const args = ["template", "t", CHART];
    for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
    const result = helm(args);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(where);
  });

  it("webhookUrl: the webhooks of deploy/overlays/localhost, and a certificate that names the host", () => {
    const base = "https://127.0.0.1:9443";
    const objects = helmTemplate({ webhookUrl: base });
    const webhookConfigurations = (list: KubeObject[]) =>
      normalise(list.filter((o) => WEBHOOK_KINDS.has(o.kind ?? ""))).map((o) => {
        // render.sh's two substitutions; the caBundle is Tollgate's to fill in.
        const text = JSON.stringify(o).replaceAll("__TOLLGATE_PORT__", "9443");
        const copy = JSON.parse(text) as KubeObject & { webhooks: { clientConfig: object }[] };
        for (const w of copy.webhooks) delete (w.clientConfig as { caBundle?: string }).caBundle;
        return copy;
      });
    expect(webhookConfigurations(objects)).toEqual(
      webhookConfigurations(render("overlays/localhost")),
    );
    for (const w of webhooksOf(objects))
      expect(w.clientConfig.url).toMatch(/^https:\/\/127\.0\.0\.1:9443\//);

    const args = (list: KubeObject[]) => {
      const deployment = list.find((o) => o.kind === "Deployment") as KubeObject;
      const spec = deployment.spec as { template: { spec: PodSpec } };
      const [container] = (spec.template.spec.containers ?? []) as (Container & {
        args: string[];
      })[];
      return container?.args ?? [];
    };
    expect(args(objects)).toContain("--cert-host=127.0.0.1");
    expect(args(helmTemplate())).not.toContainEqual(expect.stringMatching(/^--cert-host/));
    const certificate = (set: Record<string, string>) =>
      helmTemplate({ "certificates.source": "cert-manager", ...set }).find(
        (o) => o.kind === "Certificate" && o.metadata?.name === "tollgate-serving",
      ) as KubeObject & { spec: { dnsNames: string[]; ipAddresses?: string[] } };
    expect(certificate({ webhookUrl: base }).spec.ipAddresses).toEqual(["127.0.0.1"]);
    expect(certificate({ webhookUrl: "https://tollgate.example.com" }).spec.dnsNames).toContain(
      "tollgate.example.com",
    );
  });

  it("set replicas, image, resources, heap, interval, policy set and exemptions", () => {
    const objects = helmTemplate({
      replicas: "5",
      "image.tag": "9.9.9",
      "resources.limits.memory": "512Mi",
      maxHeapMegabytes: "384",
      "backgroundAudit.enabled": "true",
      "backgroundAudit.interval": "30m",
      "policySet.policies.trusted-registry.parameters.registries[0]": "contoso.azurecr.io",
      "exemptNamespaces[0]": "legacy",
    });
    const deployment = objects.find((o) => o.kind === "Deployment") as KubeObject;
    const spec = deployment.spec as { replicas: number; template: { spec: PodSpec } };
    expect(spec.replicas).toBe(5);
    const container = spec.template.spec.containers?.[0] as Container & { args: string[] };
    expect(container.image).toBe("ghcr.io/tollgate-dev/tollgate:9.9.9");
    expect(container.resources?.limits?.memory).toBe("512Mi");
    expect(container.env).toContainEqual({
      name: "NODE_OPTIONS",
      value: "--max-old-space-size=384 --max-semi-space-size=8",
    });
    expect(container.args).toContain("--background-audit=30m");
    const policySet = loadRenderedPolicySet(objects, "helm-values");
    const registry = policySet.policies.find((p) => p.declaration.id === "trusted-registry");
    expect(JSON.stringify(registry)).toContain("contoso.azurecr.io");
    for (const w of webhooksOf(objects)) {
      expect(selects(w, namespaceLabels("legacy")), w.name).toBe(false);
    }
  });
});
