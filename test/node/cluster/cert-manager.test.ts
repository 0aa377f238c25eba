// cert-manager as test/node/up.sh runs it (test/node/cert-manager/deploy):
// its two accounts may do exactly what their manifests say, per the real API
// server (`kubectl auth can-i --list`), in tollgate-system and anywhere else.
// What cert-manager does with it is test 7's second half (leader.test.ts).
import { describe, expect, it } from "vitest";
import { canIList, EVERYONE } from "./can-i.js";
import { must } from "./kube.js";

const CONTROLLER = "system:serviceaccount:cert-manager:controller";
const CAINJECTOR = "system:serviceaccount:cert-manager:cainjector";
const ALL = "[get list watch create update patch delete]";

/** Role cert-manager-controller, in tollgate-system only. */
const CONTROLLER_IN_TOLLGATE = [
  `certificaterequests.cert-manager.io | [] | [] | ${ALL}`,
  `certificates.cert-manager.io | [] | [] | ${ALL}`,
  `issuers.cert-manager.io | [] | [] | ${ALL}`,
  "certificaterequests.cert-manager.io/status | [] | [] | [update patch]",
  "certificates.cert-manager.io/status | [] | [] | [update patch]",
  "issuers.cert-manager.io/status | [] | [] | [update patch]",
  `secrets | [] | [] | ${ALL}`,
  "events | [] | [] | [create patch]",
];

/** Role cert-manager-cainjector, in tollgate-system only. */
const CAINJECTOR_IN_TOLLGATE = [
  "certificates.cert-manager.io | [] | [] | [get list watch]",
  "secrets | [] | [] | [get list watch]",
];

/** ClusterRole cert-manager-cainjector: the same in every namespace. */
const CAINJECTOR_EVERYWHERE = [
  "mutatingwebhookconfigurations.admissionregistration.k8s.io | [] | [] | [get list watch]",
  "validatingwebhookconfigurations.admissionregistration.k8s.io | [] | [] | [get list watch]",
  ...["tollgate", "tollgate-enforce", "tollgate-mode-label", "tollgate-report"].flatMap((name) => [
    `mutatingwebhookconfigurations.admissionregistration.k8s.io | [] | [${name}] | [patch]`,
    `validatingwebhookconfigurations.admissionregistration.k8s.io | [] | [${name}] | [patch]`,
  ]),
];

describe("cert-manager's accounts may do exactly this", () => {
  it("runs: controller and cainjector Available", () => {
    must([
      "-n",
      "cert-manager",
      "wait",
      "--for=condition=Available",
      "deployment/controller",
      "deployment/cainjector",
      "--timeout=120s",
    ]);
  });

  it("controller: cert-manager.io objects, Secrets and Events in tollgate-system, nothing elsewhere", () => {
    expect(canIList(CONTROLLER, "tollgate-system")).toEqual(
      [...EVERYONE, ...CONTROLLER_IN_TOLLGATE].sort(),
    );
    expect(canIList(CONTROLLER, "default")).toEqual([...EVERYONE].sort());
  });

  it("cainjector: reads Certificates and Secrets in tollgate-system, writes Tollgate's three webhook configurations only", () => {
    expect(canIList(CAINJECTOR, "tollgate-system")).toEqual(
      [...EVERYONE, ...CAINJECTOR_IN_TOLLGATE, ...CAINJECTOR_EVERYWHERE].sort(),
    );
    expect(canIList(CAINJECTOR, "default")).toEqual([...EVERYONE, ...CAINJECTOR_EVERYWHERE].sort());
  });
});
