import type { ChecklistRef } from "./types.js";

/**
 * The sections and items of the AKS checklist (July 2022 edition), used to
 * validate the `checklist` field of every policy and to score audits.
 */
export const CHECKLIST: Readonly<Record<string, readonly string[]>> = {
  "Cluster Setup": [
    "Logically isolate cluster",
    "Physically isolate cluster",
    "IP Range authorization",
    "AAD Integration",
    "Use System Node Pools",
    "AKS Managed Identity",
    "VM Sizing",
    "Configure your cluster for regulated industries",
    "Set Upgrade Channel",
    "K8S RBAC + AAD Integration",
    "Private cluster",
    "Enable cluster autoscaling",
    "Sizing of the nodes",
    "Refresh container when base image is updated",
    "Check if you need the Kubernetes dashboard",
    "Use AKS and ACR integration without password",
    "Use placement proximity group to improve performance",
    "Encrypt ETCD at rest with your own key",
    "Enable traffic management",
    "Enable geo-replication for container images",
    "Fine tune your node configuration",
    "Customize your clusters with extensions",
  ],
  Container: [
    "Scan the container image against vulnerabilities",
    "Allow deploying containers only from known registries",
    "Runtime Security of Applications",
    "Quarantine of Docker Images in Docker Registries that have discovered issues",
    "Role-Based Access Control (RBAC) to Docker Registries",
    "Network Segmentation of Docker Registries",
    "Prefer distroless images",
  ],
  Development: [
    "Implement a proper Liveness probe",
    "Implement a proper Startup probe",
    "Implement a proper Readiness probe",
    "Implement a proper prestop hook",
    "Run more than one replica for your Deployment",
    "Apply tags to all resources",
    "Implement autoscaling of your applications",
    "Store your secrets in Azure Key Vault, don't inject passwords in Docker Images",
    "Implement Azure Workload Identity",
    "Use Kubernetes namespaces to properly isolate your Kubernetes resources",
    "Set up requests and limits on your containers",
    "Specify the security context of your pod/container",
    "Ensure your manifests respect good practices",
    "Conduct Dockerfile scanning to ensure Docker Image Security Best Practices",
    "Static Analysis of Docker Images on Build",
    "Threshold enforcement of Docker Image Builds that contain vulnerabilities",
    "Compliance enforcement of Docker Image Builds",
    "Use Azure Migrate to quick containerize your applications",
    "Apply the right deployment type to your application",
    "Don't use naked pods",
    "Control the usage of imagePullPolicy",
  ],
  "Disaster Recovery": [
    "Ensure you can perform a whitespace deployment",
    "Use availability zones",
    "Plan for multiregion deployment",
    "Use Azure Traffic Manager to route traffic",
    "Create a storage migration plan",
    "Guarantee SLA for the control plane",
    "Avoid Pods being placed into a single node",
  ],
  Network: [
    "Choose the appropriate network model",
    "Plan IP addressing carefully",
    "Distribute ingress traffic",
    "Secure your exposed applications with a web application firewall (WAF)",
    "Don't expose your load-balancer on Internet if not necessary",
    "Apply control on ingress hostnames",
    "Control traffic flow with network policies",
    "Configure default network policies in each namespace",
    "Prevent data-leaking with egress lockdown",
    "Don't expose your container registry on Internet",
    "Block Pod access to VMSS IMDS",
  ],
  Operations: [
    "Maintain kubernetes version up to date",
    "Keep nodes up to date and patched",
    "Securely connect to nodes through a bastion host",
    "Regularly check for cluster issues",
    "Monitor the security of your cluster with Azure Security Center",
    "Provision a log aggregation tool",
    "Enable master node logs",
    "Collect metrics",
    "Configure distributed tracing",
    "Control the compliance with Azure Policies",
    "Read The Definitive Guide to Securing Kubernetes",
    "Enable Microsoft Defender for Kubernetes",
    "Use Azure Key Vault",
    "Use GitOps",
    "Make your life easier with K8S Tools",
    "Don't use the default namespace",
    "Apply different types of labels to all resources",
  ],
  "Resource Management": [
    "Enforce resource quotas",
    "Namespaces should have LimitRange",
    "Set memory limits and requests for all containers",
    "Configure pod disruption budgets",
    "Set up cluster auto-scaling",
  ],
  Storage: [
    "Choose the right storage type",
    "Size the nodes for storage needs",
    "Dynamically provision volumes",
    "Secure and back up your data",
    "Make your storage resilient",
  ],
  Windows: [
    "Map the base image to node OS",
    "Prepare your application for an abrupt kill",
    "Don't use privileged containers",
    "Watch for memory usage",
    "Implement CNI network mode",
    "Patch your nodes yourself",
    "Secure the traffic of your containers",
    "Enable Group Managed Service Accounts (GMSA) for your Windows Server nodes",
  ],
};

export function isChecklistItem(section: string, item: string): boolean {
  return CHECKLIST[section]?.includes(item) ?? false;
}

/**
 * How much of a checklist item a policy judges. `full`: the item's own
 * practice. `partial`: one proxy of a wider practice (a seccomp profile for
 * "Runtime Security of Applications", no SSH port for the bastion item): the
 * audit's score weighs an item only partial mappings cover less.
 */
export const CHECKLIST_COVERAGES = ["full", "partial"] as const;
export type ChecklistCoverage = (typeof CHECKLIST_COVERAGES)[number];

/** One checklist item a policy judges, and how much of it (its policy.yaml's `checklist`). */
export interface ChecklistMapping extends ChecklistRef {
  coverage: ChecklistCoverage;
  /**
   * For a policy that judges several items (probes: liveness and readiness),
   * the boolean parameter that turns this part on: the item is judged only
   * while it is true, and the findings about it name it (`Finding.part`).
   */
  part?: string | undefined;
}

/** The items a policy judges with these parameters: a part whose parameter is false judges nothing. */
export function coveredItems(
  checklist: readonly ChecklistMapping[],
  parameters: unknown,
): ChecklistMapping[] {
  const params = (parameters ?? {}) as Record<string, unknown>;
  return checklist.filter((m) => m.part === undefined || params[m.part] !== false);
}

/** The section and item alone, as findings and reports carry them. */
export function itemRef({ section, item }: ChecklistRef): ChecklistRef {
  return { section, item };
}

/** `Section / item`, with `(partial)` for a partial mapping; several joined by `; `. */
export function describeChecklist(checklist: readonly ChecklistMapping[]): string {
  return checklist
    .map((m) => `${m.section} / ${m.item}${m.coverage === "partial" ? " (partial)" : ""}`)
    .join("; ");
}
