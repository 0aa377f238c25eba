import { describe, expect, it } from "vitest";
import { objectOf, onlyPolicies, run } from "../support/policies.js";

describe("probe-host", () => {
  it("reports a host on every handler and action the kubelet connects to, and nothing else", () => {
    const handler = (host: string) => ({
      httpGet: { host, port: 80 },
      tcpSocket: { host, port: 81 },
    });
    const pod = objectOf(
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "apps" },
        spec: {
          containers: [
            {
              name: "all",
              image: "mcr.microsoft.com/all:1.0",
              livenessProbe: handler("a"),
              readinessProbe: handler("b"),
              startupProbe: handler("c"),
              lifecycle: { postStart: handler("d"), preStop: handler("e") },
            },
            {
              name: "none",
              image: "mcr.microsoft.com/none:1.0",
              livenessProbe: { httpGet: { host: "", port: 80 }, tcpSocket: "x" },
              readinessProbe: "not an object",
              startupProbe: { exec: { command: ["true"] }, grpc: { host: "g", port: 1 } },
              lifecycle: { postStart: null, preStop: { sleep: { seconds: 1 } } },
            },
          ],
        },
      }),
    );
    const verdict = run(onlyPolicies(["probe-host"]), pod);
    const base = "spec.containers[0]";
    expect(verdict.violations.map((v) => v.path)).toEqual(
      [
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle.postStart",
        "lifecycle.preStop",
      ].flatMap((h) => [`${base}.${h}.httpGet.host`, `${base}.${h}.tcpSocket.host`]),
    );
    expect(verdict.violations[9]?.message).toContain(
      'points lifecycle.preStop.tcpSocket at host "e"',
    );
  });
});
