import { describe, expect, it } from "vitest";
import {
  compilePolicySet,
  type ExceptionSource,
  evaluate,
  inputFromObject,
  type PolicyResult,
  requestSkip,
  type Verdict,
} from "../../src/engine/index.js";
import type { LoadedPolicy } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

const rootPod = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: apps }
spec:
  containers:
    - { name: app, image: mcr.microsoft.com/app:1.0, securityContext: { privileged: true } }
`);

const job = objectOf(`
apiVersion: batch/v1
kind: Job
metadata: { name: once, namespace: apps }
spec:
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      containers: [{ name: run, image: mcr.microsoft.com/run:1.0 }]
`);

function resultOf(verdict: Verdict, policy: string): PolicyResult | undefined {
  return verdict.results.find((r) => r.policy === policy);
}

function statusOf(verdict: Verdict, policy: string) {
  const r = resultOf(verdict, policy);
  return r && (r.reason ? `${r.status}:${r.reason}` : r.status);
}

describe("per-policy results", () => {
  const set = onlyPolicies(["privileged", "probes", "service-account-token", "ingress-host"]);

  it("give one result per policy of the set, mutations first", () => {
    const verdict = run(set, rootPod);
    expect(verdict.skipped).toBeUndefined();
    expect(verdict.results.map((r) => r.policy)).toEqual(set.policies.map((p) => p.declaration.id));
    expect(verdict.results[0]?.policy).toBe("service-account-token");
  });

  it("say which policy failed, with its own findings or patch, and which were skipped and why", () => {
    const verdict = run(set, rootPod);
    expect(statusOf(verdict, "privileged")).toBe("fail");
    expect(statusOf(verdict, "service-account-token")).toBe("fail");
    expect(statusOf(verdict, "probes")).toBe("fail");
    expect(statusOf(verdict, "ingress-host")).toBe("skip:kind-not-matched");
    expect(resultOf(verdict, "privileged")?.findings).toEqual(
      verdict.violations.filter((v) => v.policy === "privileged"),
    );
    expect(resultOf(verdict, "service-account-token")?.patch).toEqual(verdict.patch);
  });

  it("keep the verdict's summary fields derivable from them", () => {
    const verdict = run(set, rootPod);
    const failed = verdict.results.filter((r) => r.status === "fail");
    expect(verdict.violations).toEqual(failed.flatMap((r) => r.findings));
    expect(verdict.patch).toEqual(failed.flatMap((r) => r.patch));
    expect(verdict.mutatedBy).toEqual(
      failed.filter((r) => r.patch.length > 0).map((r) => r.policy),
    );
  });

  it("skip long-running checks on a Job: matched, but never ran", () => {
    const verdict = run(set, job);
    expect(statusOf(verdict, "probes")).toBe("skip:not-long-running");
    expect(statusOf(verdict, "privileged")).toBe("pass");
    // `evaluated` keeps meaning "matched the request".
    expect(verdict.evaluated).toContain("probes");
  });

  it("name the half of admission that did not run", () => {
    const mutate = run(set, rootPod, { phase: "mutate" });
    expect(statusOf(mutate, "privileged")).toBe("skip:other-phase");
    expect(statusOf(mutate, "service-account-token")).toBe("fail");
    const validate = run(set, rootPod, { phase: "validate" });
    expect(statusOf(validate, "service-account-token")).toBe("skip:other-phase");
    expect(statusOf(validate, "privileged")).toBe("fail");
  });

  it("keep a mutation's patch in warn mode, where the verdict does not patch", () => {
    const verdict = run(set, rootPod, { mode: "warn" });
    expect(verdict.patch).toEqual([]);
    expect(resultOf(verdict, "service-account-token")?.patch.length).toBeGreaterThan(0);
  });

  it("say a mutation was left out on an object that must not be patched", () => {
    const owned = objectOf(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: apps
  ownerReferences: [{ apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true }]
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: mcr.microsoft.com/web:1.0 }]
`);
    expect(statusOf(run(set, owned), "service-account-token")).toBe("skip:not-mutable");
  });

  it("report image exemptions and disabled policies as skips", () => {
    const entries = shippedPolicies()
      .filter((p) => ["privileged", "probes"].includes(p.declaration.id))
      .map((p) =>
        p.declaration.id === "privileged"
          ? {
              ...p,
              declaration: {
                ...p.declaration,
                enabled: true,
                exemptions: { ...p.declaration.exemptions, images: ["mcr.microsoft.com/app*"] },
              },
            }
          : { ...p, declaration: { ...p.declaration, enabled: false } },
      );
    const verdict = run(compilePolicySet(entries, []), rootPod);
    expect(statusOf(verdict, "privileged")).toBe("skip:exempt-image");
    expect(statusOf(verdict, "probes")).toBe("skip:disabled");
    expect(verdict.violations).toEqual([]);
  });

  it("say why a whole request was skipped, with no result per policy", () => {
    const system = { ...rootPod, metadata: { name: "p", namespace: "kube-system" } };
    expect(run(set, system)).toMatchObject({ skipped: "exempt-namespace", results: [] });
    const configMap = objectOf("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n");
    expect(run(set, configMap)).toMatchObject({ skipped: "kind-not-matched", results: [] });
    const removal = { ...inputFromObject(rootPod), operation: "DELETE" as const };
    expect(requestSkip(removal, set)).toBe("operation-not-judged");
    expect(requestSkip({ ...inputFromObject(rootPod), object: undefined }, set)).toBe("no-object");
    expect(requestSkip(inputFromObject(rootPod), set)).toBeUndefined();
  });

  it("say why each policy did not match: kind, operation, namespace, exempt namespace or name", () => {
    const adjusted: Record<
      string,
      (d: LoadedPolicy["declaration"]) => LoadedPolicy["declaration"]
    > = {
      privileged: (d) => ({ ...d, match: { ...d.match, operations: ["UPDATE"] } }),
      probes: (d) => ({ ...d, match: { ...d.match, namespaces: ["team-*"] } }),
      "run-as-non-root": (d) => ({
        ...d,
        exemptions: { ...d.exemptions, namespaces: ["app?"] },
      }),
      "read-only-root": (d) => ({ ...d, exemptions: { ...d.exemptions, names: ["apps/p"] } }),
    };
    const ids = [...Object.keys(adjusted), "default-namespace", "host-path"];
    const entries = shippedPolicies()
      .filter((p) => ids.includes(p.declaration.id))
      .map((p) => ({
        ...p,
        declaration: (adjusted[p.declaration.id] ?? ((d) => d))({
          ...p.declaration,
          enabled: true,
        }),
      }));
    const adjustedSet = compilePolicySet(entries, []);
    const pod = run(adjustedSet, rootPod);
    expect(statusOf(pod, "privileged")).toBe("skip:operation-not-matched");
    expect(statusOf(pod, "probes")).toBe("skip:namespace-not-matched");
    expect(statusOf(pod, "run-as-non-root")).toBe("skip:exempt-namespace");
    expect(statusOf(pod, "read-only-root")).toBe("skip:exempt-name");
    expect(statusOf(pod, "default-namespace")).toBe("pass");
    expect(statusOf(pod, "host-path")).toBe("pass");
    const update = run(adjustedSet, rootPod, { operation: "UPDATE", oldObject: rootPod });
    expect(statusOf(update, "privileged")).toBe("fail");
    // A kind only the `*` policy covers: every other policy says so.
    const configMap = objectOf(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: default }\n",
    );
    const other = run(adjustedSet, configMap);
    expect(other.results.map((r) => [r.policy, statusOf(other, r.policy)])).toEqual(
      adjustedSet.policies.map((p) => [
        p.declaration.id,
        p.declaration.id === "default-namespace" ? "fail" : "skip:kind-not-matched",
      ]),
    );
  });

  it("mark a validation excepted when an exception covers all it found", () => {
    const exceptions: ExceptionSource = () => (policy) =>
      policy === "privileged"
        ? { namespace: "apps", name: "legacy", expires: undefined, reason: "review 7" }
        : undefined;
    const verdict = evaluate(inputFromObject(rootPod), set, {
      mode: "enforce",
      phase: "both",
      exceptions,
    });
    const privileged = resultOf(verdict, "privileged");
    expect(privileged?.status).toBe("excepted");
    expect(privileged?.findings).toEqual([]);
    expect(privileged?.excepted.map((v) => v.exception.name)).toEqual(["legacy"]);
    expect(verdict.excepted).toEqual(privileged?.excepted);
    expect(verdict.violations.map((v) => v.policy)).not.toContain("privileged");
    expect(statusOf(verdict, "probes")).toBe("fail");
  });
});
