import { describe, expect, it } from "vitest";
import { parseImage } from "../../src/engine/index.js";
import { isDashboardRepository } from "../../src/engine/kit/index.js";

function isDashboard(image: string): boolean {
  const ref = parseImage(image);
  return ref !== undefined && isDashboardRepository(ref.repository);
}

describe("dashboard images", () => {
  it.each([
    "kubernetesui/dashboard:v2.7.0",
    "docker.io/kubernetesui/dashboard-api:1.7.0",
    "kubernetesui/dashboard-web:1.4.0",
    "kubernetesui/dashboard-auth:1.1.3",
    "kubernetesui/metrics-scraper:v1.0.8",
    "KubernetesUI/Dashboard:v2.7.0",
    "contoso.azurecr.io/mirror/kubernetesui/dashboard:v2.7.0",
    "k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1",
    "gcr.io/google_containers/kubernetes-dashboard-amd64:v1.8.3",
    "k8s.gcr.io/kubernetes-dashboard-arm64:v1.10.1",
    "mcr.microsoft.com/oss/kubernetes/dashboard:v2.0.0-rc7",
    "mcr.microsoft.com/oss/kubernetes/kubernetes-dashboard:v1.10.1",
    "kubernetes-dashboard@sha256:abc",
  ])("recognises %s", (image) => {
    expect(isDashboard(image)).toBe(true);
  });

  it.each([
    "grafana/grafana:11.1.0",
    "contoso.azurecr.io/team/dashboard:2.0",
    "contoso.azurecr.io/dashboard:2.0",
    "contoso.azurecr.io/kubernetesui:1.0",
    "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.29.0",
    "kong:3.6",
    "headlamp-k8s/headlamp:v0.25.0",
  ])("leaves %s alone", (image) => {
    expect(isDashboard(image)).toBe(false);
  });
});
