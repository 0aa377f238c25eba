// 8. RBAC is tested, not assumed: what the real API server says Tollgate's
// ServiceAccount may do (`kubectl auth can-i --list`), in its own namespace
// and in any other, equals the lists kept here, for deploy/overlays/node
// (deploy/base: self-managed certificates, the PolicyException watch, no
// background audit).
import { describe, expect, it } from "vitest";
import { must, restoreNodeOverlay } from "./kube.js";

const SA = "system:serviceaccount:tollgate-system:tollgate";

/** Every row of `kubectl auth can-i --list`, columns joined by " | ", sorted. */
function canIList(namespace: string): string[] {
  const text = must(["auth", "can-i", "--list", `--as=${SA}`, "-n", namespace]);
  const [header = "", ...rows] = text.trimEnd().split("\n");
  expect(header).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
  // Columns start where their titles do; the Resources column may be empty.
  const starts = ["Non-Resource URLs", "Resource Names", "Verbs"].map((t) => header.indexOf(t));
  const cut = (row: string) =>
    [0, ...starts].map((start, i) => row.slice(start, starts[i]).trim()).join(" | ");
  return rows.map(cut).sort();
}

/** What every authenticated ServiceAccount may do (discovery, self reviews). */
const EVERYONE = [
  "selfsubjectreviews.authentication.k8s.io | [] | [] | [create]",
  "selfsubjectaccessreviews.authorization.k8s.io | [] | [] | [create]",
  "selfsubjectrulesreviews.authorization.k8s.io | [] | [] | [create]",
  "clustertrustbundles.certificates.k8s.io | [] | [] | [get list watch]",
  " | [/.well-known/openid-configuration/] | [] | [get]",
  " | [/.well-known/openid-configuration] | [] | [get]",
  " | [/api/*] | [] | [get]",
  " | [/api] | [] | [get]",
  " | [/apis/*] | [] | [get]",
  " | [/apis] | [] | [get]",
  " | [/healthz] | [] | [get]",
  " | [/healthz] | [] | [get]",
  " | [/livez] | [] | [get]",
  " | [/livez] | [] | [get]",
  " | [/openapi/*] | [] | [get]",
  " | [/openapi] | [] | [get]",
  " | [/openid/v1/jwks/] | [] | [get]",
  " | [/openid/v1/jwks] | [] | [get]",
  " | [/readyz] | [] | [get]",
  " | [/readyz] | [] | [get]",
  " | [/version/] | [] | [get]",
  " | [/version/] | [] | [get]",
  " | [/version] | [] | [get]",
  " | [/version] | [] | [get]",
];

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
