import {
  CHECKLIST,
  type ChecklistCoverage,
  type ChecklistMapping,
  type ChecklistRef,
} from "../engine/index.js";

/**
 * Why a checklist item is not judged. `api`: the Kubernetes API shows it,
 * so a policy or check could, but none in this run does. The others are
 * facts the API server cannot show at all.
 */
export type OutOfReach = "api" | "azure" | "practice";

export const OUT_OF_REACH_REASONS: Readonly<Record<OutOfReach, string>> = {
  api: "the Kubernetes API shows it, but no enabled policy or check in this run covers it",
  azure:
    "Azure configuration (networking, identity, node pools, add-ons, registries) that the Kubernetes API does not show",
  practice: "a build, registry, monitoring or team practice outside the cluster's objects",
};

/**
 * Every checklist item that no cluster check covers, classified by whether
 * the Kubernetes API could ever show it. A test keeps this in step with
 * src/engine/checklist.ts: every item is either here or covered by a check.
 */
export const ITEM_REACH: Readonly<Record<string, Readonly<Record<string, OutOfReach>>>> = {
  "Cluster Setup": {
    "Logically isolate cluster": "practice",
    "Physically isolate cluster": "azure",
    "IP Range authorization": "azure",
    "AAD Integration": "azure",
    "Use System Node Pools": "azure",
    "AKS Managed Identity": "azure",
    "VM Sizing": "azure",
    "Configure your cluster for regulated industries": "practice",
    "Set Upgrade Channel": "azure",
    "K8S RBAC + AAD Integration": "azure",
    "Private cluster": "azure",
    "Enable cluster autoscaling": "azure",
    "Sizing of the nodes": "azure",
    "Refresh container when base image is updated": "practice",
    "Check if you need the Kubernetes dashboard": "api",
    "Use AKS and ACR integration without password": "api",
    "Use placement proximity group to improve performance": "azure",
    "Encrypt ETCD at rest with your own key": "azure",
    "Enable traffic management": "azure",
    "Enable geo-replication for container images": "azure",
    "Fine tune your node configuration": "azure",
    "Customize your clusters with extensions": "azure",
  },
  Container: {
    "Scan the container image against vulnerabilities": "practice",
    "Allow deploying containers only from known registries": "api",
    "Runtime Security of Applications": "practice",
    "Quarantine of Docker Images in Docker Registries that have discovered issues": "practice",
    "Role-Based Access Control (RBAC) to Docker Registries": "azure",
    "Network Segmentation of Docker Registries": "azure",
    "Prefer distroless images": "practice",
  },
  Development: {
    "Implement a proper Liveness probe": "api",
    "Implement a proper Startup probe": "api",
    "Implement a proper Readiness probe": "api",
    "Implement a proper prestop hook": "api",
    "Run more than one replica for your Deployment": "api",
    "Apply tags to all resources": "api",
    "Implement autoscaling of your applications": "api",
    "Store your secrets in Azure Key Vault, don't inject passwords in Docker Images": "api",
    "Implement Azure Workload Identity": "api",
    "Use Kubernetes namespaces to properly isolate your Kubernetes resources": "api",
    "Set up requests and limits on your containers": "api",
    "Specify the security context of your pod/container": "api",
    "Ensure your manifests respect good practices": "api",
    "Conduct Dockerfile scanning to ensure Docker Image Security Best Practices": "practice",
    "Static Analysis of Docker Images on Build": "practice",
    "Threshold enforcement of Docker Image Builds that contain vulnerabilities": "practice",
    "Compliance enforcement of Docker Image Builds": "practice",
    "Use Azure Migrate to quick containerize your applications": "practice",
    "Apply the right deployment type to your application": "api",
    "Don't use naked pods": "api",
    "Control the usage of imagePullPolicy": "api",
  },
  "Disaster Recovery": {
    "Ensure you can perform a whitespace deployment": "practice",
    "Use availability zones": "azure",
    "Plan for multiregion deployment": "azure",
    "Use Azure Traffic Manager to route traffic": "azure",
    "Create a storage migration plan": "practice",
    "Guarantee SLA for the control plane": "azure",
    "Avoid Pods being placed into a single node": "api",
  },
  Network: {
    "Choose the appropriate network model": "azure",
    "Plan IP addressing carefully": "azure",
    "Distribute ingress traffic": "api",
    "Secure your exposed applications with a web application firewall (WAF)": "azure",
    "Don't expose your load-balancer on Internet if not necessary": "api",
    "Apply control on ingress hostnames": "api",
    "Control traffic flow with network policies": "api",
    "Configure default network policies in each namespace": "api",
    "Prevent data-leaking with egress lockdown": "azure",
    "Don't expose your container registry on Internet": "azure",
    "Block Pod access to VMSS IMDS": "api",
  },
  Operations: {
    "Maintain kubernetes version up to date": "api",
    "Keep nodes up to date and patched": "azure",
    "Securely connect to nodes through a bastion host": "azure",
    "Regularly check for cluster issues": "practice",
    "Monitor the security of your cluster with Azure Security Center": "azure",
    "Provision a log aggregation tool": "practice",
    "Enable master node logs": "azure",
    "Collect metrics": "practice",
    "Configure distributed tracing": "practice",
    "Control the compliance with Azure Policies": "azure",
    "Read The Definitive Guide to Securing Kubernetes": "practice",
    "Enable Microsoft Defender for Kubernetes": "azure",
    "Use Azure Key Vault": "azure",
    "Use GitOps": "practice",
    "Make your life easier with K8S Tools": "practice",
    "Don't use the default namespace": "api",
    "Apply different types of labels to all resources": "api",
  },
  "Resource Management": {
    "Enforce resource quotas": "api",
    "Namespaces should have LimitRange": "api",
    "Set memory limits and requests for all containers": "api",
    "Configure pod disruption budgets": "api",
    "Set up cluster auto-scaling": "azure",
  },
  Storage: {
    "Choose the right storage type": "practice",
    "Size the nodes for storage needs": "azure",
    "Dynamically provision volumes": "api",
    "Secure and back up your data": "practice",
    "Make your storage resilient": "azure",
  },
  Windows: {
    "Map the base image to node OS": "api",
    "Prepare your application for an abrupt kill": "api",
    "Don't use privileged containers": "api",
    "Watch for memory usage": "practice",
    "Implement CNI network mode": "azure",
    "Patch your nodes yourself": "azure",
    "Secure the traffic of your containers": "azure",
    "Enable Group Managed Service Accounts (GMSA) for your Windows Server nodes": "api",
  },
};

/** How one checklist item is judged in this run. */
export interface ItemReach {
  section: string;
  item: string;
  /** Enabled policies whose `checklist` names this item (with a part, one that is on). */
  policies: string[];
  /** Cluster checks of this item. */
  checks: string[];
  /**
   * `full` when a cluster check or a full mapping covers the item, `partial`
   * when only partial mappings do (it then weighs less in the score); unset
   * when nothing covers it.
   */
  coverage?: ChecklistCoverage | undefined;
  /** Set when neither a policy nor a check covers the item. */
  outOfReach?: OutOfReach | undefined;
}

/**
 * The reach of every checklist item for a set of enabled policies (each
 * with the items its parameters leave on, `coveredItems`) and the cluster
 * checks: in reach when at least one of them covers the item.
 */
export function reachOf(
  policies: readonly { id: string; checklist: readonly ChecklistMapping[] }[],
  checks: readonly { id: string; checklist: ChecklistRef }[],
): ItemReach[] {
  const out: ItemReach[] = [];
  for (const [section, items] of Object.entries(CHECKLIST)) {
    for (const item of items) {
      const same = (ref: ChecklistRef) => ref.section === section && ref.item === item;
      const mappings = policies.flatMap((p) =>
        p.checklist.filter(same).map((m) => ({ id: p.id, coverage: m.coverage })),
      );
      const byPolicy = mappings.map((m) => m.id);
      const byCheck = checks.filter((c) => same(c.checklist)).map((c) => c.id);
      const covered = byPolicy.length > 0 || byCheck.length > 0;
      const full = byCheck.length > 0 || mappings.some((m) => m.coverage === "full");
      out.push({
        section,
        item,
        policies: byPolicy.sort(),
        checks: byCheck,
        coverage: covered ? (full ? "full" : "partial") : undefined,
        outOfReach: covered ? undefined : (ITEM_REACH[section]?.[item] ?? "api"),
      });
    }
  }
  return out;
}

export function itemKey(ref: ChecklistRef): string {
  return `${ref.section}\u0000${ref.item}`;
}
