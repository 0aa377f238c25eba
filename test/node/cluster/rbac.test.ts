// 8. RBAC is tested, not assumed: what the real API server says Tollgate's
// ServiceAccount may do (`kubectl auth can-i --list`), in its own namespace
// and in any other, equals the lists kept here, for deploy/overlays/node
// (deploy/base: self-managed certificates, the PolicyException watch, no
// background audit).
import { describe, expect, it } from "vitest";
import { canIList as canIListAs, EVERYONE } from "./can-i.js";
import { restoreNodeOverlay } from "./kube.js";

const SA = "system:serviceaccount:tollgate-system:tollgate";
const canIList = (namespace: string) => canIListAs(SA, namespace);

/** deploy/base/rbac.yaml's ClusterRole tollgate-ca-injection: the same in every namespace. */
const CA_INJECTION = [
  "mutatingwebhookconfigurations.admissionregistration.k8s.io | [] | [tollgate] | [get patch]",
  "validatingwebhookconfigurations.admissionregistration.k8s.io | [] | [tollgate-enforce] | [get patch]",
  "validatingwebhookconfigurations.admissionregistration.k8s.io | [] | [tollgate-mode-label] | [get patch]",
  "validatingwebhookconfigurations.admissionregistration.k8s.io | [] | [tollgate-report] | [get patch]",
];

/** deploy/base/exceptions-rbac.yaml's ClusterRole tollgate-exceptions-watch: every namespace. */
const EXCEPTIONS_WATCH = ["policyexceptions.tollgate.dev | [] | [] | [list watch]"];

/** deploy/base/rbac.yaml's Role tollgate-certificates, in tollgate-system only. */
const CERTIFICATES = [
  "secrets | [] | [] | [create]",
  "secrets | [] | [tollgate-tls] | [get update]",
];

describe("8. Tollgate's ServiceAccount may do exactly this", () => {
  it("in tollgate-system and in any other namespace", async () => {
    await restoreNodeOverlay();
    expect(canIList("tollgate-system")).toEqual(
      [...EVERYONE, ...CA_INJECTION, ...EXCEPTIONS_WATCH, ...CERTIFICATES].sort(),
    );
    expect(canIList("default")).toEqual([...EVERYONE, ...CA_INJECTION, ...EXCEPTIONS_WATCH].sort());
  }, 600_000);
});
