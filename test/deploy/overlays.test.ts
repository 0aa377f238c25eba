// The rendered overlays: webhook design, selectors per mode, the Deployment's
// availability and hardening, RBAC tied to what the certificate code calls.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SECRET_NAME,
  DEFAULT_SERVICE,
  DEFAULT_WEBHOOK_CONFIGURATIONS,
} from "../../src/certificates/options.js";
import type { Container, KubeObject, PodSpec } from "../../src/engine/index.js";
import {
  find,
  GUARD_WEBHOOK,
  namespaceLabels,
  pathOf,
  type RenderedWebhook,
  render,
  selects,
  WEBHOOK_KINDS,
  webhook,
  webhooksOf,
} from "./render.js";

const EXEMPT = ["kube-system", "kube-public", "kube-node-lease", "tollgate-system"];
const MODES = [undefined, "enforce", "warn", "audit", "off", "bogus"] as const;
const IN_CLUSTER = ["base", "overlays/cluster-wide", "overlays/opt-in", "overlays/cert-manager"];
const ALL = [...IN_CLUSTER, "overlays/localhost", "overlays/localhost-opt-in"];

const EXPECTED = {
  "mutate.tollgate.dev": {
    configuration: "tollgate",
    kind: "MutatingWebhookConfiguration",
    path: "/mutate/enforce",
    failurePolicy: "Ignore",
    timeoutSeconds: 3,
  },
  "enforce.tollgate.dev": {
    configuration: "tollgate-enforce",
    kind: "ValidatingWebhookConfiguration",
    path: "/validate/enforce",
    failurePolicy: "Fail",
    timeoutSeconds: 5,
  },
  "warn.tollgate.dev": {
    configuration: "tollgate-report",
    kind: "ValidatingWebhookConfiguration",
    path: "/validate/warn",
    failurePolicy: "Ignore",
    timeoutSeconds: 3,
  },
  "audit.tollgate.dev": {
    configuration: "tollgate-report",
    kind: "ValidatingWebhookConfiguration",
    path: "/validate/audit",
    failurePolicy: "Ignore",
    timeoutSeconds: 3,
  },
} as const;

/** Resources every validating webhook must see, as group/resource. */
const VALIDATED_RESOURCES = [
  "/pods",
  "/services",
  "/replicationcontrollers",
  "apps/deployments",
  "apps/statefulsets",
  "apps/daemonsets",
  "apps/replicasets",
  "batch/jobs",
  "batch/cronjobs",
  "networking.k8s.io/ingresses",
];

/**
 * Exactly what the mutating webhook intercepts, as group/resource: operations.
 * Pods and Jobs only on CREATE (their pod spec is immutable afterwards); no
 * ReplicaSets (a mutated ReplicaSet no longer matches its Deployment's
 * template, and the Deployment controller creates new ones in a loop); no
 * Services or Ingresses (no mutation applies to them).
 */
const MUTATED_RESOURCES: Record<string, string[]> = {
  "/pods": ["CREATE"],
  "/replicationcontrollers": ["CREATE", "UPDATE"],
  "apps/deployments": ["CREATE", "UPDATE"],
  "apps/statefulsets": ["CREATE", "UPDATE"],
  "apps/daemonsets": ["CREATE", "UPDATE"],
  "batch/jobs": ["CREATE"],
  "batch/cronjobs": ["CREATE", "UPDATE"],
  // The PolicySet's default workloadKinds: a Rollout's template makes its pods.
  "argoproj.io/rollouts": ["CREATE", "UPDATE"],
};

/** group/resource: operations, failing on a resource that two rules name. */
function operationsOf(w: RenderedWebhook): Record<string, string[]> {
  const operations: Record<string, string[]> = {};
  for (const rule of w.rules) {
    for (const resource of rule.apiGroups.flatMap((g) => rule.resources.map((r) => `${g}/${r}`))) {
      expect(operations[resource], `${w.name} ${resource} in two rules`).toBeUndefined();
      operations[resource] = rule.operations;
    }
  }
  return operations;
}

function resourcesOf(w: RenderedWebhook): string[] {
  return w.rules.flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`)),
  );
}

function argsOf(pod: PodSpec): string[] {
  const [container] = pod.containers ?? [];
  return ((container as { args?: string[] } | undefined)?.args ?? []) as string[];
}

/** Which webhooks a namespace with this mode label reaches. */
function reached(objects: KubeObject[], namespace: string, mode?: string): string[] {
  return webhooksOf(objects)
    .filter((w) => selects(w, namespaceLabels(namespace, mode)))
    .map((w) => w.name)
    .sort();
}

describe.each(ALL)("%s", (dir) => {
  const objects = render(dir);
  const webhooks = webhooksOf(objects);

  it("renders Tollgate's four webhook configurations: four policy webhooks and the mode-label guard", () => {
    const configurations = objects
      .filter((o) => WEBHOOK_KINDS.has(o.kind ?? ""))
      .map((o) => ({ kind: o.kind, name: o.metadata?.name }));
    expect(configurations).toEqual(expect.arrayContaining([...DEFAULT_WEBHOOK_CONFIGURATIONS]));
    expect(configurations).toHaveLength(DEFAULT_WEBHOOK_CONFIGURATIONS.length);
    expect(webhooks.map((w) => w.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(webhook(objects, GUARD_WEBHOOK).configuration).toBe("tollgate-mode-label");
  });

  it("sends only Namespace changes of the mode label to the guard, failing closed outside the exempt namespaces", () => {
    const guard = webhook(objects, GUARD_WEBHOOK);
    const conditions = (guard as unknown as { matchConditions: { expression: string }[] })
      .matchConditions;
    expect(guard.failurePolicy).toBe("Fail");
    expect(pathOf(guard)).toBe("/guard/mode-label");
    expect(resourcesOf(guard)).toEqual(["/namespaces"]);
    expect(guard.rules.flatMap((r) => r.operations)).toEqual(["CREATE", "UPDATE"]);
    expect(conditions.map((c) => c.expression).join(" ")).toContain("tollgate.dev/mode");
    for (const namespace of EXEMPT) {
      expect(selects(guard, namespaceLabels(namespace, "off")), namespace).toBe(false);
    }
    expect(selects(guard, namespaceLabels("team-a", "off"))).toBe(true);
  });

  it.each(Object.entries(EXPECTED))("%s: policy, timeout and mode path", (name, expected) => {
    const w = webhook(objects, name);
    expect(w.configuration).toBe(expected.configuration);
    expect(w.kind).toBe(expected.kind);
    expect(w.failurePolicy).toBe(expected.failurePolicy);
    expect(w.timeoutSeconds).toBe(expected.timeoutSeconds);
    expect(pathOf(w)).toBe(expected.path);
  });

  it("uses the fields the API server needs for a safe, side-effect-free webhook", () => {
    for (const w of webhooks) {
      expect(w.sideEffects, w.name).toBe("None");
      expect(w.admissionReviewVersions, w.name).toEqual(["v1"]);
      expect(w.matchPolicy, w.name).toBe("Equivalent");
      expect(w.timeoutSeconds, w.name).toBeLessThanOrEqual(5);
      // Any label a user can write would be a way out of enforcement.
      expect(w.objectSelector, w.name).toBeUndefined();
      // The API server accepts no query string in url or service.path: the mode
      // must be a path segment (lower-case RFC 1123 labels only).
      expect(pathOf(w), w.name).toMatch(/^(\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)+$/);
      if (w.clientConfig.url) expect(w.clientConfig.url, w.name).not.toContain("?");
    }
  });

  it("never reaches kube-system, kube-public, kube-node-lease or tollgate-system", () => {
    for (const w of webhooks) {
      const byName = w.namespaceSelector?.matchExpressions?.find(
        (e) => e.key === "kubernetes.io/metadata.name",
      );
      expect(byName?.operator, w.name).toBe("NotIn");
      expect(byName?.values, w.name).toEqual(expect.arrayContaining(EXEMPT));
      for (const namespace of EXEMPT) {
        for (const mode of MODES) {
          expect(selects(w, namespaceLabels(namespace, mode)), `${w.name} ${namespace}`).toBe(
            false,
          );
        }
      }
    }
  });

  it("validates the workload, Service and Ingress kinds and nothing noisy", () => {
    for (const w of webhooks) {
      const resources = resourcesOf(w);
      if (w.kind === "ValidatingWebhookConfiguration") {
        expect(resources, w.name).toEqual(expect.arrayContaining(VALIDATED_RESOURCES));
      }
      for (const resource of resources) {
        expect(resource, w.name).not.toMatch(
          /\/(events|leases|configmaps|secrets|\*)$|\/(status|scale|binding|eviction)$/,
        );
        // The only subresource is pods/ephemeralcontainers, and only for validation.
        if (resource.split("/").length > 2) {
          expect(resource, w.name).toBe("/pods/ephemeralcontainers");
          expect(w.kind, w.name).toBe("ValidatingWebhookConfiguration");
        }
      }
      for (const rule of w.rules) {
        if (w.kind === "ValidatingWebhookConfiguration") {
          expect(rule.operations, w.name).toEqual(["CREATE", "UPDATE"]);
        }
        expect(rule.scope, w.name).toBe("Namespaced");
      }
    }
    expect(resourcesOf(webhook(objects, "enforce.tollgate.dev"))).toContain(
      "/pods/ephemeralcontainers",
    );
  });

  it("mutates only the workloads it can patch safely: no ReplicaSets, Services or Ingresses", () => {
    const mutate = webhook(objects, "mutate.tollgate.dev");
    expect(operationsOf(mutate)).toEqual(MUTATED_RESOURCES);
    const resources = resourcesOf(mutate);
    for (const left of ["apps/replicasets", "/services", "networking.k8s.io/ingresses"]) {
      expect(resources).not.toContain(left);
    }
    for (const rule of mutate.rules) {
      expect(rule.apiVersions).toEqual(
        rule.apiGroups.includes("argoproj.io") ? ["v1alpha1"] : ["v1"],
      );
    }
  });

  it("sends each namespace to at most one validating webhook", () => {
    for (const mode of MODES) {
      const validating = reached(objects, "team-a", mode).filter(
        (n) => n !== "mutate.tollgate.dev",
      );
      expect(validating.length, String(mode)).toBeLessThanOrEqual(1);
    }
  });

  it("mutates exactly where it enforces", () => {
    for (const mode of MODES) {
      const names = reached(objects, "team-a", mode);
      expect(names.includes("mutate.tollgate.dev"), String(mode)).toBe(
        names.includes("enforce.tollgate.dev"),
      );
    }
  });

  it("leaves caBundle out of service-based webhooks (it is injected, never applied)", () => {
    for (const w of webhooks) {
      if (w.clientConfig.service) expect(w.clientConfig.caBundle, w.name).toBeUndefined();
    }
  });
});

describe("mode selection", () => {
  const table = (dir: string) =>
    Object.fromEntries(MODES.map((mode) => [String(mode), reached(render(dir), "team-a", mode)]));

  it("cluster-wide enforces unlabelled namespaces and any unknown label value", () => {
    const enforced = ["enforce.tollgate.dev", "mutate.tollgate.dev"];
    expect(table("overlays/cluster-wide")).toEqual({
      undefined: enforced,
      enforce: enforced,
      warn: ["warn.tollgate.dev"],
      audit: ["audit.tollgate.dev"],
      off: [],
      bogus: enforced,
    });
    // The base is installable as is and behaves the same.
    expect(table("base")).toEqual(table("overlays/cluster-wide"));
    expect(table("overlays/cert-manager")).toEqual(table("overlays/cluster-wide"));
    expect(table("overlays/localhost")).toEqual(table("overlays/cluster-wide"));
  });

  it("opt-in touches only namespaces labelled enforce, warn or audit", () => {
    expect(table("overlays/opt-in")).toEqual({
      undefined: [],
      enforce: ["enforce.tollgate.dev", "mutate.tollgate.dev"],
      warn: ["warn.tollgate.dev"],
      audit: ["audit.tollgate.dev"],
      off: [],
      bogus: [],
    });
  });
});

describe("in-cluster overlays", () => {
  describe.each(IN_CLUSTER)("%s", (dir) => {
    const objects = render(dir);
    const deployment = find(objects, "Deployment", "tollgate");
    const spec = deployment.spec as {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      strategy: { rollingUpdate: { maxUnavailable: number } };
      template: {
        metadata: { labels: Record<string, string> };
        spec: PodSpec & Record<string, unknown>;
      };
    };
    const pod = spec.template.spec;
    const [container] = pod.containers ?? [];
    const c = container as Container & {
      ports: { name: string; containerPort: number }[];
      args: string[];
      lifecycle: { preStop: { sleep?: { seconds: number } } };
      volumeMounts: { name: string; mountPath: string }[];
    };

    it("calls the Tollgate Service on 443, which reaches the container's 8443", () => {
      for (const w of webhooksOf(objects)) {
        expect(w.clientConfig.service).toEqual({
          name: DEFAULT_SERVICE,
          namespace: "tollgate-system",
          path: pathOf(w),
          port: 443,
        });
      }
      const service = find(objects, "Service", DEFAULT_SERVICE);
      const { ports, selector } = service.spec as {
        ports: { port: number; targetPort: string | number }[];
        selector: Record<string, string>;
      };
      // 443 reaches the webhook's 8443; 9090 the metrics listener's (--metrics-port).
      const targets = ports.map((port) => [
        port.port,
        c.ports.find((p) => p.name === port.targetPort || p.containerPort === port.targetPort)
          ?.containerPort,
      ]);
      expect(targets).toEqual([
        [443, 8443],
        [9090, 9090],
      ]);
      expect(c.args).toContain("--metrics-port=9090");
      expect(spec.template.metadata.labels).toEqual(expect.objectContaining(selector));
      expect(c.args).toContain("--port=8443");
    });

    it("runs three spread-out replicas that a drain takes one at a time", () => {
      expect(spec.replicas).toBe(3);
      expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const anti = pod.affinity?.podAntiAffinity;
      const terms = [
        ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(
          (anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []) as {
            podAffinityTerm: unknown;
          }[]
        ).map((t) => t.podAffinityTerm),
      ] as { topologyKey: string }[];
      expect(terms.map((t) => t.topologyKey)).toContain("kubernetes.io/hostname");
      expect((pod.topologySpreadConstraints ?? []).map((t) => t.topologyKey)).toEqual(
        expect.arrayContaining(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]),
      );
      const pdb = find(objects, "PodDisruptionBudget", "tollgate").spec as {
        maxUnavailable?: number;
        minAvailable?: number;
        selector: { matchLabels: Record<string, string> };
      };
      expect(pdb.maxUnavailable === 1 || pdb.minAvailable === 2).toBe(true);
      expect(pdb.selector.matchLabels).toEqual(spec.selector.matchLabels);
      expect(spec.template.metadata.labels).toEqual(
        expect.objectContaining(spec.selector.matchLabels),
      );
    });

    it("probes /healthz and /readyz over HTTPS and drains before stopping", () => {
      const https = (probe: unknown) =>
        (probe as { httpGet: { path: string; port: string; scheme: string } }).httpGet;
      expect(https(c.livenessProbe)).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
      expect(https(c.readinessProbe)).toEqual({ path: "/readyz", port: "https", scheme: "HTTPS" });
      expect(https(c.startupProbe)).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
      const sleep = c.lifecycle.preStop.sleep?.seconds ?? 0;
      expect(sleep).toBeGreaterThan(0);
      // The grace period covers the preStop sleep, the server's default 5 s drain
      // and its default 10 s request timeout (+1 s before it cuts connections).
      expect(pod.terminationGracePeriodSeconds as number).toBeGreaterThanOrEqual(sleep + 5 + 11);
      expect(c.args).toContain("--no-cluster");
    });

    it("sets requests and a memory limit", () => {
      expect(c.resources?.requests?.cpu).toBeDefined();
      expect(c.resources?.requests?.memory).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
    });

    it("runs restricted: non-root 65532, no escalation, no capabilities, read-only root", () => {
      expect(pod.securityContext).toEqual(
        expect.objectContaining({
          runAsNonRoot: true,
          runAsUser: 65532,
          seccompProfile: { type: "RuntimeDefault" },
        }),
      );
      expect(c.securityContext).toEqual(
        expect.objectContaining({
          runAsNonRoot: true,
          runAsUser: 65532,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        }),
      );
      expect(pod.hostNetwork).toBeUndefined();
      expect(c.image).toBe("ghcr.io/tollgate-dev/tollgate:0.1.0");
      expect(c.imagePullPolicy).toBe("IfNotPresent");
    });

    it("mounts the policy set ConfigMap where --config points", () => {
      const config = c.args.find((a) => a.startsWith("--config="))?.slice("--config=".length);
      const mount = c.volumeMounts.find((m) => config?.startsWith(`${m.mountPath}/`));
      expect(mount).toBeDefined();
      const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name) as {
        configMap?: { name: string };
      };
      const configMap = find(objects, "ConfigMap", volume.configMap?.name ?? "");
      const key = config?.slice((mount?.mountPath.length ?? 0) + 1) ?? "";
      expect(Object.keys(configMap.data as object)).toContain(key);
      expect(find(objects, "Namespace", "tollgate-system")).toBeDefined();
    });
  });

  it("self-managed certificates: token, RBAC for exactly the calls the code makes", () => {
    const objects = render("overlays/cluster-wide");
    const deployment = find(objects, "Deployment", "tollgate");
    const pod = (
      deployment.spec as { template: { spec: PodSpec & { serviceAccountName: string } } }
    ).template.spec;
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(argsOf(pod)).toEqual(
      expect.arrayContaining(["--manage-certs", "--namespace=$(POD_NAMESPACE)"]),
    );

    type Rule = {
      apiGroups: string[];
      resources: string[];
      verbs: string[];
      resourceNames?: string[];
    };
    const role = find(objects, "Role", "tollgate-certificates") as KubeObject & { rules: Rule[] };
    expect(role.metadata?.namespace).toBe("tollgate-system");
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [DEFAULT_SECRET_NAME],
        verbs: ["get", "update"],
      },
    ]);
    const clusterRole = find(objects, "ClusterRole", "tollgate-ca-injection") as KubeObject & {
      rules: Rule[];
    };
    const granted = clusterRole.rules.flatMap((r) => {
      expect(r.verbs).toEqual(["get", "patch"]);
      expect(r.apiGroups).toEqual(["admissionregistration.k8s.io"]);
      return r.resources.flatMap((res) => (r.resourceNames ?? ["*"]).map((n) => `${res}/${n}`));
    });
    const configurations = DEFAULT_WEBHOOK_CONFIGURATIONS.map(
      (c) => `${c.kind.toLowerCase()}s/${c.name}`,
    );
    expect(granted.sort()).toEqual(configurations.sort());
    for (const binding of ["RoleBinding", "ClusterRoleBinding"]) {
      const subjects = (
        find(
          objects,
          binding,
          binding === "RoleBinding" ? "tollgate-certificates" : "tollgate-ca-injection",
        ) as KubeObject & { subjects: unknown[] }
      ).subjects;
      expect(subjects).toEqual([
        { kind: "ServiceAccount", name: pod.serviceAccountName, namespace: "tollgate-system" },
      ]);
    }
  });

  it("cert-manager: annotations, mounted Secret, and RBAC only to watch PolicyExceptions", () => {
    const objects = render("overlays/cert-manager");
    const serving = objects.find(
      (o) =>
        o.kind === "Certificate" &&
        `${o.metadata?.namespace}/${o.metadata?.name}` ===
          find(objects, "ValidatingWebhookConfiguration", "tollgate-enforce").metadata
            ?.annotations?.["cert-manager.io/inject-ca-from"],
    ) as KubeObject & { spec: { secretName: string; dnsNames: string[] } };
    expect(serving).toBeDefined();
    expect(serving.spec.dnsNames).toEqual([
      "tollgate.tollgate-system.svc",
      "tollgate.tollgate-system.svc.cluster.local",
    ]);
    for (const o of objects.filter((x) => WEBHOOK_KINDS.has(x.kind ?? ""))) {
      expect(o.metadata?.annotations?.["cert-manager.io/inject-ca-from"]).toBe(
        "tollgate-system/tollgate-serving",
      );
    }
    const pod = (find(objects, "Deployment", "tollgate").spec as { template: { spec: PodSpec } })
      .template.spec;
    // The token stays for the PolicyException watch, the only API it calls.
    expect(pod.automountServiceAccountToken).toBe(true);
    const args = argsOf(pod);
    expect(args).toEqual(expect.arrayContaining(["--cert=/certs/tls.crt", "--key=/certs/tls.key"]));
    expect(args).not.toContain("--manage-certs");
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          secret: expect.objectContaining({ secretName: serving.spec.secretName }),
        }),
      ]),
    );
    const bound = objects
      .filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")
      .map((o) => o.metadata?.name);
    expect(bound).toEqual(["tollgate-exceptions-watch"]);
    expect(objects.filter((o) => o.kind === "Role")).toEqual([]);
  });

  it("localhost: webhook configurations only, calling 127.0.0.1 with placeholders", () => {
    const objects = render("overlays/localhost");
    expect(objects.every((o) => WEBHOOK_KINDS.has(o.kind ?? ""))).toBe(true);
    for (const w of webhooksOf(objects)) {
      expect(w.clientConfig.service).toBeUndefined();
      expect(w.clientConfig.url).toBe(
        `https://127.0.0.1:__TOLLGATE_PORT__${EXPECTED[w.name as keyof typeof EXPECTED].path}`,
      );
      expect(w.clientConfig.caBundle).toBe("__TOLLGATE_CA_BUNDLE__");
    }
  });
});
