import { describe, expect, it } from "vitest";
import { parseImage } from "../../src/engine/index.js";
import { isDashboardRepository } from "../../src/engine/kit/index.js";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

const both = onlyPolicies(["dashboard", "kubernetes-dashboard"]);

function deployment(name: string, image: string, labels = "{ app: web }") {
  return objectOf(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ui, labels: ${labels} }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: app, image: "${image}" }]
`);
}

function service(name: string, labels: string) {
  return objectOf(`
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ui, labels: ${labels} }
spec:
  ports: [{ port: 80 }]
`);
}

/** The policy and message of each finding both dashboard policies make on the object. */
function findings(object: ReturnType<typeof objectOf>) {
  return run(both, object).violations.map((v) => ({ policy: v.policy, message: v.message }));
}

describe("dashboard evidence", () => {
  it.each([
    ["kubernetesui/dashboard:v2.7.0", true],
    ["docker.io/kubernetesui/metrics-scraper:v1.0.8", true],
    ["myregistry.azurecr.io/mirror/kubernetesui/dashboard-api:1.0", true],
    ["k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1", true],
    ["mcr.microsoft.com/oss/kubernetes/dashboard:v2.0.0", true],
    ["nginx:1.27", false],
    ["contoso.azurecr.io/dashboard:1", false],
  ])("%s → %s", (image, expected) => {
    const ref = parseImage(image);
    expect(ref !== undefined && isDashboardRepository(ref.repository)).toBe(expected);
  });

  it("finds names and labels (kubernetes-dashboard) and images (dashboard)", () => {
    const named = findings(deployment("kubernetes-dashboard", "contoso.azurecr.io/ui:1"));
    expect(named).toEqual([
      { policy: "kubernetes-dashboard", message: expect.stringContaining("named") },
    ]);
    const labelled = findings(service("ui", "{ k8s-app: kubernetes-dashboard }"));
    expect(labelled).toEqual([
      {
        policy: "kubernetes-dashboard",
        message: expect.stringContaining("labelled k8s-app=kubernetes-dashboard"),
      },
    ]);
    const image = findings(deployment("ui", "kubernetesui/dashboard:v2"));
    expect(image).toEqual([
      { policy: "dashboard", message: expect.stringContaining("dashboard image") },
    ]);
    expect(findings(deployment("x", "contoso.azurecr.io/web:1"))).toEqual([]);
  });

  it("reports an installation running the dashboard image once, by its image", () => {
    const installed = findings(
      deployment(
        "kubernetes-dashboard",
        "kubernetesui/dashboard:v2.7.0",
        "{ k8s-app: kubernetes-dashboard }",
      ),
    );
    expect(installed.map((f) => f.policy)).toEqual(["dashboard"]);
  });

  it("does not deny by default: names are weaker evidence than images", () => {
    const verdict = run(both, deployment("kubernetes-dashboard", "contoso.azurecr.io/ui:1"));
    expect(verdict.allowed).toBe(true);
    expect(verdict.violations.map((v) => v.action)).toEqual(["audit"]);
  });
});
