// Tollgate installed from deploy/overlays/node on a real node: three replicas
// from the image test/node/image.mjs built, certificates made in-cluster, the
// API server calling the Service, and controllers making pods through /mutate.
import { beforeAll, describe, expect, it } from "vitest";
import {
  busyboxDeployment,
  json,
  kubectl,
  must,
  namespace,
  trustNodeImages,
  until,
} from "./kube.js";

interface Pod {
  metadata: { name: string; ownerReferences?: { kind: string }[] };
  spec: {
    securityContext?: Record<string, unknown>;
    containers: { securityContext?: Record<string, unknown> }[];
  };
  status: {
    phase?: string;
    containerStatuses?: { ready: boolean; state: Record<string, { reason?: string }> }[];
  };
}

describe("1. three replicas with --manage-certs", () => {
  it("are Ready and Running from the image built here", () => {
    const deployment = json<{ status: { readyReplicas?: number } }>([
      "-n",
      "tollgate-system",
      "get",
      "deployment",
      "tollgate",
    ]);
    expect(deployment.status.readyReplicas).toBe(3);
    const pods = json<{ items: (Pod & { spec: { containers: { image: string }[] } })[] }>([
      "-n",
      "tollgate-system",
      "get",
      "pods",
      "-l",
      "app.kubernetes.io/name=tollgate",
    ]).items;
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.status.phase).toBe("Running");
      expect(p.spec.containers[0]?.image).toBe("tollgate.local/tollgate:node");
    }
  });

  it("created the TLS Secret and put its CA into every webhook configuration", () => {
    const secret = json<{ data: Record<string, string> }>([
      "-n",
      "tollgate-system",
      "get",
      "secret",
      "tollgate-tls",
    ]);
    const ca = secret.data["ca.crt"];
    expect(ca).toBeTruthy();
    for (const [kind, name] of [
      ["mutatingwebhookconfiguration", "tollgate"],
      ["validatingwebhookconfiguration", "tollgate-enforce"],
      ["validatingwebhookconfiguration", "tollgate-report"],
      ["validatingwebhookconfiguration", "tollgate-mode-label"],
    ] as const) {
      const config = json<{ webhooks: { clientConfig: { caBundle?: string } }[] }>([
        "get",
        kind,
        name,
      ]);
      for (const w of config.webhooks) expect(w.clientConfig.caBundle, `${kind}/${name}`).toBe(ca);
    }
  });
});

describe("2. modes through the Service (--enable-aggregator-routing)", () => {
  const privileged = (ns: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "priv", namespace: ns },
    spec: {
      containers: [
        { name: "c", image: "tollgate.local/busybox:root", securityContext: { privileged: true } },
      ],
    },
  });

  it("enforce denies, warn and audit admit (warn with warnings), off and exempt namespaces are untouched", () => {
    const enforced = kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      privileged(namespace("mode-enforce")),
    );
    expect(enforced.code).not.toBe(0);
    expect(enforced.stderr).toContain(
      'admission webhook "enforce.tollgate.dev" denied the request',
    );
    expect(enforced.stderr).toContain("privileged");

    const warned = kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      privileged(namespace("mode-warn", "warn")),
    );
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/Warning: privileged/);

    for (const [ns, mode] of [
      ["mode-audit", "audit"],
      ["mode-off", "off"],
    ] as const) {
      const r = kubectl(["create", "--dry-run=server", "-f", "-"], privileged(namespace(ns, mode)));
      expect(r.code, mode).toBe(0);
      expect(r.stderr, mode).not.toContain("Warning: privileged");
    }
    const system = kubectl(["create", "--dry-run=server", "-f", "-"], privileged("kube-system"));
    expect(system.code).toBe(0);
  });
});

describe("3. controllers: Deployment -> ReplicaSet -> running Pods through /mutate", () => {
  let ns = "";
  beforeAll(async () => {
    await trustNodeImages();
    ns = namespace("workloads");
  });

  async function runningPods(name: string): Promise<Pod[]> {
    return until(`pods of ${name} running`, 150_000, () => {
      const pods = json<{ items: Pod[] }>([
        "-n",
        ns,
        "get",
        "pods",
        "-l",
        `app.kubernetes.io/name=${name}`,
      ]).items;
      const waiting = pods
        .flatMap((p) => p.status.containerStatuses ?? [])
        .map((s) => s.state.waiting?.reason);
      if (waiting.includes("CreateContainerConfigError"))
        throw new Error(`${name}: CreateContainerConfigError`);
      return pods.length === 2 &&
        pods.every((p) => p.status.phase === "Running" && p.status.containerStatuses?.[0]?.ready)
        ? pods
        : undefined;
    });
  }

  it("a root image run as a numbered user: mutated, and its pods start", async () => {
    must(
      ["apply", "-f", "-"],
      busyboxDeployment("root-image", ns, "tollgate.local/busybox:root", { runAsUser: 10001 }),
    );
    const pods = await runningPods("root-image");
    const rs = json<{ items: unknown[] }>([
      "-n",
      ns,
      "get",
      "replicasets",
      "-l",
      "app.kubernetes.io/name=root-image",
    ]);
    expect(rs.items).toHaveLength(1);
    for (const p of pods) {
      expect(p.metadata.ownerReferences?.[0]?.kind).toBe("ReplicaSet");
      expect(p.spec.securityContext).toMatchObject({
        runAsUser: 10001,
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(p.spec.containers[0]?.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("a numbered non-root image that only asserts runAsNonRoot: mutated, and its pods start", async () => {
    must(
      ["apply", "-f", "-"],
      busyboxDeployment("nonroot-image", ns, "tollgate.local/busybox:nonroot", {
        runAsNonRoot: true,
      }),
    );
    const pods = await runningPods("nonroot-image");
    for (const p of pods) {
      expect(p.spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
    }
  });

  it("a root image without a user is denied at apply, never admitted to fail at start", () => {
    const r = kubectl(
      ["apply", "-f", "-"],
      busyboxDeployment("root-unset", ns, "tollgate.local/busybox:root", {}),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("run-as-non-root");
    expect(r.stderr).toContain("runAsNonRoot is not set");
  });

  it("the kubelet itself refuses a root image under runAsNonRoot, which is why the mutation no longer sets it blindly", async () => {
    const warnNs = namespace("root-warn", "warn");
    const d = busyboxDeployment("forced", warnNs, "tollgate.local/busybox:root", {
      runAsNonRoot: true,
    });
    must(["apply", "-f", "-"], d);
    const reason = await until("CreateContainerConfigError", 120_000, () => {
      const pods = json<{ items: Pod[] }>(["-n", warnNs, "get", "pods"]).items;
      const states = pods
        .flatMap((p) => p.status.containerStatuses ?? [])
        .map((s) => s.state.waiting?.reason);
      return states.find((s) => s === "CreateContainerConfigError");
    });
    expect(reason).toBe("CreateContainerConfigError");
  });
});
