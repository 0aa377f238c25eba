import { describe, expect, it } from "vitest";
import { evaluate, inputFromObject } from "../../src/engine/index.js";
import { exceptionLookup, indexExceptions } from "../../src/exceptions/index.js";
import { loadPolicySetFile } from "../../src/policyset/index.js";
import { shippedPolicies } from "../support/policies.js";
import { exception } from "./support.js";

const { set } = loadPolicySetFile(shippedPolicies(), undefined);

const daemonSet = (namespace = "storage") => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "csi-node", namespace, labels: { app: "csi-node" } },
  spec: {
    selector: { matchLabels: { app: "csi-node" } },
    template: {
      metadata: { labels: { app: "csi-node" } },
      spec: {
        containers: [
          {
            name: "driver",
            image: "mcr.microsoft.com/csi:1",
            securityContext: { privileged: true },
          },
        ],
      },
    },
  },
});

const csiNode = exception({
  policies: ["privileged"],
  match: {
    kinds: ["DaemonSet"],
    names: ["csi-node*"],
    selector: { matchLabels: { app: "csi-node" } },
  },
  expires: "2027-01-31T00:00:00Z",
});

function decide(namespace: string, now: string) {
  const exceptions = exceptionLookup(indexExceptions([csiNode]), {
    now: Date.parse(now),
    mayHold: () => true,
  });
  return evaluate(inputFromObject(daemonSet(namespace)), set, {
    mode: "enforce",
    phase: "validate",
    exceptions,
  });
}

describe("evaluate with PolicyExceptions", () => {
  it("keeps an excepted finding visible but lets it through, with a warning naming the exception", () => {
    const verdict = decide("storage", "2026-12-01T00:00:00Z");
    expect(verdict.violations.map((v) => v.policy)).not.toContain("privileged");
    expect(verdict.excepted.map((v) => [v.policy, v.container, v.exception.name])).toEqual([
      ["privileged", "driver", "csi-node"],
    ]);
    expect(verdict.warnings).toContain("privileged: excepted by storage/csi-node until 2027-01-31");
    expect(verdict.auditAnnotations["privileged.excepted"]).toMatch(
      /^by storage\/csi-node until 2027-01-31; DaemonSet "csi-node" container "driver": /,
    );
  });

  it("denies again once the exception has expired", () => {
    const verdict = decide("storage", "2027-01-31T00:00:00Z");
    expect(verdict.excepted).toEqual([]);
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations.map((v) => v.policy)).toContain("privileged");
  });

  it("does not reach the same object in another namespace", () => {
    const verdict = decide("team-b", "2026-12-01T00:00:00Z");
    expect(verdict.excepted).toEqual([]);
    expect(verdict.violations.map((v) => v.policy)).toContain("privileged");
  });
});
