/** True for repositories that hold a Kubernetes dashboard component, wherever they are mirrored. */
export function isDashboardRepository(repository: string): boolean {
  const lower = repository.toLowerCase();
  // Every rule below needs one of these words; most images have neither, and
  // this runs for every container of every request, so skip the split for them.
  if (!lower.includes("dashboard") && !lower.includes("kubernetesui")) return false;
  const segments = lower.split("/");
  const last = segments[segments.length - 1] ?? "";
  const parent = segments[segments.length - 2];
  // The kubernetesui organisation publishes only dashboard parts.
  if (segments.slice(0, -1).includes("kubernetesui")) return true;
  // The names used before the project moved, e.g. kubernetes-dashboard-amd64.
  if (last === "kubernetes-dashboard" || last.startsWith("kubernetes-dashboard-")) return true;
  // Mirrors such as mcr.microsoft.com/oss/kubernetes/dashboard.
  return parent === "kubernetes" && (last === "dashboard" || last.startsWith("dashboard-"));
}
