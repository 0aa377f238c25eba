import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/server/app.js";
import { createReadiness } from "../../src/server/health.js";
import { defaultModeOnly } from "../../src/server/mode.js";
import {
  LogCapture,
  plainPod,
  policySetOf,
  post,
  privilegedPod,
  reviewOf,
  testApp,
} from "./support.js";

describe("GET /metrics", () => {
  it("exposes decisions, violations, mutations and sub-millisecond latency buckets", async () => {
    const { app } = testApp();
    await post(app, "/validate", reviewOf(privilegedPod()));
    await post(app, "/validate/warn", reviewOf(privilegedPod()));
    await post(app, "/validate/audit", reviewOf(privilegedPod()));
    await post(app, "/mutate", reviewOf(plainPod()));
    await post(app, "/validate", reviewOf(privilegedPod("p", "kube-system")));

    const reply = await app.inject({ method: "GET", url: "/metrics" });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = reply.body;
    expect(text).toContain(
      'tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="enforce",decision="denied",dry_run="false"} 1',
    );
    expect(text).toContain(
      'tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="warn",decision="allowed",dry_run="false"} 1',
    );
    expect(text).toContain(
      'tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="exempt",decision="allowed",dry_run="false"} 1',
    );
    for (const mode of ["enforce", "warn", "audit"]) {
      expect(text).toContain(
        `tollgate_policy_violations_total{policy="privileged",action="deny",mode="${mode}"} 1`,
      );
    }
    expect(text).toContain('tollgate_policy_mutations_total{policy="service-account-token"} 1');
    expect(text).toContain(
      'tollgate_admission_duration_seconds_bucket{le="0.00005",phase="validate"}',
    );
    expect(text).toContain('tollgate_admission_duration_seconds_bucket{le="1",phase="mutate"}');
    expect(text).toContain('tollgate_admission_duration_seconds_count{phase="validate"} 4');
    expect(text).toContain("# TYPE tollgate_reloads_total counter");
  });

  it("counts a PolicySet CEL policy's violations under its id, like a built-in policy's", async () => {
    const policies = policySetOf(["privileged"], {
      celPolicies: [
        {
          id: "named-pods",
          action: "deny",
          match: { kinds: ["Pod"] },
          validations: [{ expression: "object.metadata.name.startsWith('app-')", message: "no" }],
        },
      ],
    });
    const { app } = testApp({ policies });
    await post(app, "/validate", reviewOf(plainPod("web")));
    await post(app, "/validate/warn", reviewOf(plainPod("web")));
    await post(app, "/validate", reviewOf(plainPod("app-web")));
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain(
      'tollgate_policy_violations_total{policy="named-pods",action="deny",mode="enforce"} 1',
    );
    expect(text).toContain(
      'tollgate_policy_violations_total{policy="named-pods",action="deny",mode="warn"} 1',
    );
  });

  it("bounds the kind label to kinds a policy is about, others count as other", async () => {
    const { app } = testApp();
    for (let i = 0; i < 500; i++) {
      const pod = { ...privilegedPod(`p${i}`), apiVersion: "x.example/v1", kind: `Kind${i}` };
      await post(app, "/validate", reviewOf(pod, { uid: `u${i}` }));
    }
    await post(app, "/validate", reviewOf(privilegedPod("real")));
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const series = text
      .split("\n")
      .filter((l) => l.startsWith("tollgate_admission_requests_total{"));
    expect(series).toEqual([
      'tollgate_admission_requests_total{operation="CREATE",kind="other",mode="none",decision="allowed",dry_run="false"} 500',
      'tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="enforce",decision="denied",dry_run="false"} 1',
    ]);
  });

  it("counts violations across requests and scrapes without counting any twice", async () => {
    const { app } = testApp();
    const scrape = async () => (await app.inject({ method: "GET", url: "/metrics" })).body;
    const privileged =
      'tollgate_policy_violations_total{policy="privileged",action="deny",mode="enforce"}';
    expect(await scrape()).not.toContain(privileged);
    await post(app, "/validate", reviewOf(privilegedPod("a"), { uid: "a" }));
    await post(app, "/validate", reviewOf(privilegedPod("b"), { uid: "b" }));
    expect(await scrape()).toContain(`${privileged} 2`);
    await post(app, "/validate", reviewOf(privilegedPod("c"), { uid: "c" }));
    await post(app, "/validate/warn", reviewOf(privilegedPod("d"), { uid: "d" }));
    await scrape();
    const text = await scrape();
    expect(text).toContain(`${privileged} 3`);
    expect(text).toContain(
      'tollgate_policy_violations_total{policy="privileged",action="deny",mode="warn"} 1',
    );
  });

  it("tells dry runs apart", async () => {
    const { app } = testApp();
    await post(app, "/validate", reviewOf(privilegedPod("dry"), { uid: "dry", dryRun: true }));
    await post(app, "/validate", reviewOf(privilegedPod("real")));
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    for (const flag of ["true", "false"]) {
      expect(text).toContain(
        `tollgate_admission_requests_total{operation="CREATE",kind="Pod",mode="enforce",decision="denied",dry_run="${flag}"} 1`,
      );
    }
  });

  it("includes the process metrics on the app's own registry, not the global one", async () => {
    const registry = new Registry();
    const app = buildApp({
      policies: () => policySetOf(["privileged"]),
      logger: new LogCapture().logger,
      registry,
      resolveMode: defaultModeOnly,
      readiness: createReadiness(),
    });
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    const { register } = await import("prom-client");
    expect(await register.metrics()).not.toContain("tollgate_");
  });
});
