// 6. Tollgate scaled to 0: the enforce webhook fails closed with the API
// server's message naming it, warn and audit namespaces keep admitting (their
// webhook fails open), kube-system is never sent to Tollgate; scaled back, it
// judges again with no other step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busyboxDeployment,
  DENIED_BY_TOLLGATE,
  kubectl,
  must,
  namespace,
  privilegedPod,
  rolledOut,
  TOLLGATE_NAMESPACE,
  tollgateJudges,
  tollgatePods,
  trustNodeImages,
  until,
} from "./kube.js";

function scale(replicas: number): void {
  must(["-n", TOLLGATE_NAMESPACE, "scale", "deployment/tollgate", `--replicas=${replicas}`]);
}

function compliant(ns: string, name: string): Record<string, unknown> {
  return busyboxDeployment(name, ns, "tollgate.local/busybox:root", { runAsUser: 10001 });
}

describe("6. Tollgate scaled to 0", () => {
  let enforced = "";
  let warned = "";
  let audited = "";
  beforeAll(async () => {
    await trustNodeImages();
    enforced = namespace("outage-enforce");
    warned = namespace("outage-warn", "warn");
    audited = namespace("outage-audit", "audit");
    await tollgateJudges(enforced);
    scale(0);
    await until("no Tollgate pod left", 240_000, () =>
      tollgatePods().length === 0 ? true : undefined,
    );
  });

  afterAll(async () => {
    scale(3);
    await until("tollgate rolled out", 400_000, () => (rolledOut() ? true : undefined));
  });

  it("an enforced namespace refuses, with the API server naming Tollgate's webhook and the cause", () => {
    for (const object of [compliant(enforced, "app"), privilegedPod(enforced)]) {
      const r = kubectl(["create", "--dry-run=server", "-f", "-"], object);
      console.log(`scaled to 0, enforced namespace: ${r.stderr.trim()}`);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/failed calling webhook "(enforce|mutate)\.tollgate\.dev"/);
      expect(r.stderr).toContain("tollgate.tollgate-system.svc");
      expect(r.stderr).toContain('no endpoints available for service "tollgate"');
      expect(r.stderr).not.toContain(DENIED_BY_TOLLGATE);
    }
  });

  it("warn and audit namespaces admit, compliant or not", () => {
    for (const ns of [warned, audited]) {
      for (const object of [compliant(ns, "app"), privilegedPod(ns)]) {
        const r = kubectl(["create", "--dry-run=server", "-f", "-"], object);
        expect(r.code, `${ns}: ${r.stderr}`).toBe(0);
      }
    }
  });

  it("kube-system keeps working", () => {
    const name = `outage-probe-${process.pid}`;
    const created = kubectl([
      "-n",
      "kube-system",
      "create",
      "configmap",
      name,
      "--from-literal=a=b",
    ]);
    expect(created.code, created.stderr).toBe(0);
    must(["-n", "kube-system", "delete", "configmap", name]);
    const pod = kubectl(["create", "--dry-run=server", "-f", "-"], privilegedPod("kube-system"));
    expect(pod.code, pod.stderr).toBe(0);
  });

  it("scaled back to 3, it judges again by itself", async () => {
    scale(3);
    await until("tollgate rolled out", 400_000, () => (rolledOut() ? true : undefined));
    await tollgateJudges(enforced);
    const r = kubectl(["apply", "-f", "-"], compliant(enforced, "after"));
    expect(r.code, r.stderr).toBe(0);
  }, 700_000);
});
