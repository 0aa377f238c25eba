// The registry of every check Tollgate ships: the policies (one folder each
// here) and the cluster checks (one folder each under cluster/). Keep both
// lists sorted by id: the loader rejects any other order, so a merge can never
// silently drop or shadow a check.
import type { Registry } from "../src/policyset/index.js";
import apparmor from "./apparmor/index.js";
import capabilities from "./capabilities/index.js";
import capabilitiesMinimal from "./capabilities-minimal/index.js";
import kubernetesVersion from "./cluster/kubernetes-version/index.js";
import namespaceDefaultDeny from "./cluster/namespace-default-deny/index.js";
import namespaceLimitRange from "./cluster/namespace-limit-range/index.js";
import namespaceResourceQuota from "./cluster/namespace-resource-quota/index.js";
import podDisruptionBudget from "./cluster/pod-disruption-budget/index.js";
import dashboard from "./dashboard/index.js";
import defaultNamespace from "./default-namespace/index.js";
import hostNamespaces from "./host-namespaces/index.js";
import hostPath from "./host-path/index.js";
import hostPorts from "./host-ports/index.js";
import imagePullPolicy from "./image-pull-policy/index.js";
import imageTag from "./image-tag/index.js";
import ingressHost from "./ingress-host/index.js";
import internalLoadBalancer from "./internal-load-balancer/index.js";
import kubernetesDashboard from "./kubernetes-dashboard/index.js";
import nakedPod from "./naked-pod/index.js";
import podIdentity from "./pod-identity/index.js";
import podSpreading from "./pod-spreading/index.js";
import prestopHook from "./prestop-hook/index.js";
import privilegeEscalation from "./privilege-escalation/index.js";
import privileged from "./privileged/index.js";
import probeHost from "./probe-host/index.js";
import probes from "./probes/index.js";
import procMount from "./proc-mount/index.js";
import readOnlyRoot from "./read-only-root/index.js";
import replicas from "./replicas/index.js";
import requiredLabels from "./required-labels/index.js";
import resourceDefaults from "./resource-defaults/index.js";
import resources from "./resources/index.js";
import runAsNonRoot from "./run-as-non-root/index.js";
import seccomp from "./seccomp/index.js";
import seccompRequired from "./seccomp-required/index.js";
import secretEnv from "./secret-env/index.js";
import securityDefaults from "./security-defaults/index.js";
import selinux from "./selinux/index.js";
import serviceAccountToken from "./service-account-token/index.js";
import sshPort from "./ssh-port/index.js";
import sysctls from "./sysctls/index.js";
import trustedRegistry from "./trusted-registry/index.js";
import volumeTypes from "./volume-types/index.js";
import windowsHostProcess from "./windows-host-process/index.js";

export const registry: Registry = {
  modules: [
    apparmor,
    capabilities,
    capabilitiesMinimal,
    dashboard,
    defaultNamespace,
    hostNamespaces,
    hostPath,
    hostPorts,
    imagePullPolicy,
    imageTag,
    ingressHost,
    internalLoadBalancer,
    kubernetesDashboard,
    nakedPod,
    podIdentity,
    podSpreading,
    prestopHook,
    privilegeEscalation,
    privileged,
    probeHost,
    probes,
    procMount,
    readOnlyRoot,
    replicas,
    requiredLabels,
    resourceDefaults,
    resources,
    runAsNonRoot,
    seccomp,
    seccompRequired,
    secretEnv,
    securityDefaults,
    selinux,
    serviceAccountToken,
    sshPort,
    sysctls,
    trustedRegistry,
    volumeTypes,
    windowsHostProcess,
  ],
  clusterChecks: [
    kubernetesVersion,
    namespaceDefaultDeny,
    namespaceLimitRange,
    namespaceResourceQuota,
    podDisruptionBudget,
  ],
  directory: new URL("./", import.meta.url),
};
