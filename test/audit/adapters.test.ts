import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { AuditError } from "../../src/audit/errors.js";
import { AUDIT_KINDS, auditRbacRules } from "../../src/audit/kinds.js";
import {
  auditKubeConfig,
  isTransient,
  toAuditError,
  withRetry,
} from "../../src/cluster/audit-connect.js";

const attempt = {
  verb: "list",
  resource: "deployments.apps",
  endpoint: "https://k8s.invalid:6443",
};

function apiError(code: number, body: unknown) {
  return new ApiException(code, "Unknown API Status Code!", JSON.stringify(body), {});
}

describe("toAuditError", () => {
  it("names the verb and resource to grant when forbidden", () => {
    const error = toAuditError(
      apiError(403, {
        kind: "Status",
        message:
          'deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API group "apps" at the cluster scope',
        reason: "Forbidden",
      }),
      attempt,
    );
    expect(error).toBeInstanceOf(AuditError);
    expect(error.reason).toBe("forbidden");
    expect(error.message).toBe(
      'forbidden: cannot list deployments.apps; grant the auditing identity "list" on "deployments.apps" (deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API group "apps" at the cluster scope)',
    );
    expect(toAuditError(apiError(403, {}), { ...attempt, namespace: "shop" }).message).toContain(
      'cannot list deployments.apps in namespace "shop"',
    );
  });

  it("explains rejected credentials, unserved resources and other statuses", () => {
    expect(toAuditError(apiError(401, {}), attempt).message).toContain(
      "unauthorized: https://k8s.invalid:6443 rejected",
    );
    expect(toAuditError(apiError(404, "404 page not found"), attempt).reason).toBe("not-found");
    expect(toAuditError(apiError(500, { message: "etcd timeout\nmore" }), attempt).message).toBe(
      "the API server answered 500 to list deployments.apps: etcd timeout",
    );
  });

  it("says why the cluster could not be reached", () => {
    const refused = Object.assign(new Error("request failed, reason: connect ECONNREFUSED"), {
      code: "ECONNREFUSED",
    });
    expect(toAuditError(refused, attempt).message).toBe(
      "cannot reach the cluster at https://k8s.invalid:6443: connection refused (ECONNREFUSED)",
    );
    const tls = Object.assign(new Error("x"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(toAuditError(tls, attempt).message).toContain("certificate is not trusted");
  });
});

describe("retries", () => {
  it("retries overload and dropped connections, not client errors", async () => {
    expect(isTransient(apiError(503, {}))).toBe(true);
    expect(isTransient(apiError(429, {}))).toBe(true);
    expect(isTransient(apiError(403, {}))).toBe(false);
    expect(isTransient(Object.assign(new Error(), { code: "ECONNRESET" }))).toBe(true);
    let calls = 0;
    const value = await withRetry(async () => {
      if (++calls < 3) throw apiError(503, {});
      return "ok";
    }, [1, 1]);
    expect([value, calls]).toEqual(["ok", 3]);
    calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw apiError(403, {});
      }, [1, 1]),
    ).rejects.toBeInstanceOf(ApiException);
    expect(calls).toBe(1);
  });
});

describe("auditKubeConfig", () => {
  it("fails with one line for a missing or unusable file", () => {
    expect(() => auditKubeConfig("/nonexistent/kubeconfig")).toThrow(
      new AuditError("usage", "kubeconfig /nonexistent/kubeconfig: no such file"),
    );
    const dir = mkdtempSync(join(tmpdir(), "tollgate-kc-"));
    try {
      const empty = join(dir, "empty");
      writeFileSync(empty, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
      expect(() => auditKubeConfig(empty)).toThrow(/no current context with a cluster/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("auditRbacRules", () => {
  it("grants list on every kind the audit may read, and report access only when writing", () => {
    const rules = auditRbacRules({ writeReports: false });
    const granted = new Set(
      rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`)),
    );
    for (const kind of AUDIT_KINDS.filter((k) => k.kind !== "ConfigMap")) {
      const group = kind.apiVersion.includes("/") ? kind.apiVersion.split("/")[0] : "";
      expect(granted.has(`${group}/${kind.resource}`), kind.kind).toBe(true);
    }
    expect(rules.every((r) => r.verbs.includes("list"))).toBe(true);
    expect(rules.some((r) => r.apiGroups.includes("wgpolicyk8s.io"))).toBe(false);
    expect(auditRbacRules({ writeReports: true }).at(-1)).toEqual({
      apiGroups: ["wgpolicyk8s.io"],
      resources: ["policyreports", "clusterpolicyreports"],
      verbs: ["get", "list", "create", "update", "delete"],
    });
    expect(auditRbacRules({ writeReports: true, reportApi: "openreports" }).at(-1)).toEqual({
      apiGroups: ["openreports.io"],
      resources: ["reports", "clusterreports"],
      verbs: ["get", "list", "create", "update", "delete"],
    });
  });
});
