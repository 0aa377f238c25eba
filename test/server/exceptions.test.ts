import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/engine/index.js";
import {
  type ExceptionEvents,
  type ExceptionFeed,
  indexExceptions,
  LiveExceptions,
} from "../../src/exceptions/index.js";
import { followExceptions } from "../../src/server/exceptions.js";
import { registerExceptionGauges } from "../../src/server/metrics.js";
import { exception, exceptionObject } from "../exceptions/support.js";
import { admit, policySetOf, privilegedDeployment, reviewOf, testApp } from "./support.js";

const FUTURE = "2099-01-31T00:00:00Z";
const PAST = "2020-01-31T00:00:00Z";

/** The support Deployment's privileged container is `app`. */
function appException(namespace: string, expires = FUTURE, name = "web-privileged") {
  return exception(
    {
      policies: ["privileged"],
      match: { kinds: ["Deployment"], names: ["web"] },
      reason: "needs privileges",
      expires,
    },
    { name, namespace },
  );
}

function appWith(exceptions: ReturnType<typeof appException>[]) {
  const index = indexExceptions(exceptions);
  return testApp({ policies: policySetOf(["privileged"]), exceptions: () => index });
}

describe("PolicyExceptions at admission", () => {
  it("admits an excepted Deployment in enforce mode, with a warning and an audit annotation naming the exception", async () => {
    const { app, registry } = appWith([appException("apps")]);
    const response = await admit(app, "/validate/enforce", reviewOf(privilegedDeployment()));
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([
      "privileged: excepted by apps/web-privileged until 2099-01-31",
    ]);
    expect(response.auditAnnotations?.["privileged.excepted"]).toMatch(
      /^by apps\/web-privileged until 2099-01-31; Deployment "web" container "app": /,
    );
    expect(await registry.metrics()).toContain(
      'tollgate_policy_exceptions_applied_total{policy="privileged",exception="apps/web-privileged"} 1',
    );
  });

  it("denies once the exception has expired, with no restart", async () => {
    const { app } = appWith([appException("apps", PAST)]);
    const response = await admit(app, "/validate/enforce", reviewOf(privilegedDeployment()));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain("privileged");
  });

  it("does not honour an exception held in another namespace", async () => {
    const { app } = appWith([appException("team-b")]);
    const response = await admit(app, "/validate/enforce", reviewOf(privilegedDeployment()));
    expect(response.allowed).toBe(false);
  });

  it("does not honour exceptions in namespaces the PolicySet does not allow to hold them", async () => {
    const index = indexExceptions([appException("apps")]);
    const { app } = testApp({
      policies: policySetOf(["privileged"], { exceptionNamespaces: ["platform-*"] }),
      exceptions: () => index,
    });
    const response = await admit(app, "/validate/enforce", reviewOf(privilegedDeployment()));
    expect(response.allowed).toBe(false);
  });
});

describe("break-glass subjects", () => {
  const policies = policySetOf(["privileged"], {
    exemptions: { subjects: { users: ["oncall-*"], serviceAccounts: ["flux-system/*"] } },
  });

  it("admits an exempt user's request unchecked and records who in the audit annotation", async () => {
    const { app, logs } = testApp({ policies });
    const review = reviewOf(privilegedDeployment(), { userInfo: { username: "oncall-bob" } });
    const response = await admit(app, "/validate/enforce", review);
    expect(response).toMatchObject({
      allowed: true,
      auditAnnotations: { "exempt-subject": "user oncall-bob" },
    });
    expect(logs.withMessage("admission decision")[0]?.mode).toBe("exempt-subject");
  });

  it("names a ServiceAccount as namespace/name, and leaves everyone else checked", async () => {
    const { app } = testApp({ policies });
    const flux = await admit(
      app,
      "/validate/enforce",
      reviewOf(privilegedDeployment(), {
        userInfo: { username: "system:serviceaccount:flux-system:kustomize-controller" },
      }),
    );
    expect(flux.auditAnnotations).toEqual({
      "exempt-subject": "serviceaccount flux-system/kustomize-controller",
    });
    const alice = await admit(app, "/validate/enforce", reviewOf(privilegedDeployment()));
    expect(alice.allowed).toBe(false);
    expect(alice.auditAnnotations?.["exempt-subject"]).toBeUndefined();
  });

  it("records nothing where the exemption let nothing through (an exempt namespace)", async () => {
    const { app } = testApp({ policies });
    const review = reviewOf(privilegedDeployment("web", "kube-system"), {
      userInfo: { username: "oncall-bob" },
    });
    const response = await admit(app, "/validate/enforce", review);
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
  });
});

function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

describe("POST /guard/mode-label", () => {
  const guarded = policySetOf(["privileged"], {
    protectModeLabel: true,
    modeLabelEditors: { groups: ["platform-admins"] },
  });
  const relabel = (from: Record<string, string>, to: Record<string, string>, groups: string[]) =>
    reviewOf(namespace("team-a", to), {
      operation: "UPDATE",
      oldObject: namespace("team-a", from),
      userInfo: { username: "dana", groups },
    });

  it("denies a normal user adding, changing or removing the mode label, saying who may", async () => {
    const { app } = testApp({ policies: guarded });
    const cases = [
      [{}, { "tollgate.dev/mode": "off" }, 'from unset to "off"'],
      [{ "tollgate.dev/mode": "warn" }, { "tollgate.dev/mode": "off" }, 'from "warn" to "off"'],
      [{ "tollgate.dev/mode": "enforce" }, {}, 'from "enforce" to unset'],
    ] as const;
    for (const [from, to, change] of cases) {
      const response = await admit(app, "/guard/mode-label", relabel(from, to, []));
      expect(response.allowed).toBe(false);
      expect(response.status?.code).toBe(403);
      expect(response.status?.message).toContain(change);
      expect(response.status?.message).toContain("modeLabelEditors");
    }
    const created = await admit(
      app,
      "/guard/mode-label",
      reviewOf(namespace("team-b", { "tollgate.dev/mode": "off" })),
    );
    expect(created.allowed).toBe(false);
  });

  it("lets a listed editor change it, recording the change and who made it", async () => {
    const { app } = testApp({ policies: guarded });
    const response = await admit(
      app,
      "/guard/mode-label",
      relabel({ "tollgate.dev/mode": "enforce" }, { "tollgate.dev/mode": "warn" }, [
        "platform-admins",
      ]),
    );
    expect(response).toMatchObject({
      allowed: true,
      auditAnnotations: {
        "mode-label": 'tollgate.dev/mode from "enforce" to "warn" by group platform-admins',
      },
    });
  });

  it("lets anyone change other labels, and everything through when protectModeLabel is off", async () => {
    const { app } = testApp({ policies: guarded });
    const other = await admit(
      app,
      "/guard/mode-label",
      relabel({ "tollgate.dev/mode": "warn", team: "a" }, { "tollgate.dev/mode": "warn" }, []),
    );
    expect(other.allowed).toBe(true);
    const { app: open } = testApp({ policies: policySetOf(["privileged"]) });
    const off = await admit(
      open,
      "/guard/mode-label",
      relabel({}, { "tollgate.dev/mode": "off" }, []),
    );
    expect(off.allowed).toBe(true);
  });

  it("guards the PolicySet's own modeLabel", async () => {
    const { app } = testApp({
      policies: policySetOf(["privileged"], {
        protectModeLabel: true,
        modeLabel: "example.com/mode",
      }),
    });
    const ours = await admit(
      app,
      "/guard/mode-label",
      relabel({}, { "example.com/mode": "off", "tollgate.dev/mode": "off" }, []),
    );
    expect(ours.status?.message).toContain("example.com/mode");
  });
});

describe("LiveExceptions", () => {
  it("reports a bad object and ignores it, keeping every other exception", () => {
    const live = new LiveExceptions();
    expect(live.upsert(exceptionObject({}, { name: "good" })).ok).toBe(true);
    const bad = live.upsert(exceptionObject({ reason: "" }, { name: "bad" }));
    expect(bad.ok).toBe(false);
    expect(live.all().map((e) => e.name)).toEqual(["good"]);
    expect(live.counts()).toEqual({ valid: 1, invalid: 1 });
  });

  it("stops applying an exception whose new version is bad, and forgets deleted ones", () => {
    const live = new LiveExceptions();
    live.upsert(exceptionObject({}, { name: "a" }));
    live.upsert(exceptionObject({}, { name: "b" }));
    live.upsert(exceptionObject({ expires: "next week" }, { name: "a" }));
    expect(live.all().map((e) => e.name)).toEqual(["b"]);
    expect(live.remove(exceptionObject({}, { name: "a" }))).toBe("storage/a");
    expect(live.remove(exceptionObject({}, { name: "b" }))).toBe("storage/b");
    expect(live.counts()).toEqual({ valid: 0, invalid: 0 });
    expect(live.index().size).toBe(0);
  });

  it("applies an exception added or changed after the index was read", () => {
    const live = new LiveExceptions();
    live.upsert(exceptionObject({}, { name: "a" }));
    expect([...(live.index().get("storage") ?? [])].map((e) => e.name)).toEqual(["a"]);
    live.upsert(exceptionObject({}, { name: "b" }));
    expect([...(live.index().get("storage") ?? [])].map((e) => e.name)).toEqual(["a", "b"]);
    live.upsert(exceptionObject({ policies: ["host-path"] }, { name: "a" }));
    const a = live
      .index()
      .get("storage")
      ?.find((e) => e.name === "a");
    expect([...(a?.policies ?? [])]).toEqual(["host-path"]);
  });

  it("survives objects that are not exceptions at all", () => {
    const live = new LiveExceptions();
    for (const junk of [null, 42, "x", [], { metadata: 3 }]) {
      expect(live.upsert(junk).ok).toBe(false);
      expect(live.remove(junk)).toBeUndefined();
    }
    expect(live.counts()).toEqual({ valid: 0, invalid: 0 });
  });
});

/** A feed that delivers `script` when started; `hold` keeps the first list from finishing. */
function fakeFeed(script: (events: ExceptionEvents) => void, hold = false): ExceptionFeed {
  return {
    start: (events) => {
      script(events);
      return hold ? new Promise(() => {}) : Promise.resolve();
    },
    close: () => {},
  };
}

describe("followExceptions", () => {
  it("counts each object as a reload, logs a bad one with its field, and keeps the good ones", async () => {
    const { app, logs, registry } = testApp();
    const live = new LiveExceptions();
    const feed = fakeFeed((events) => {
      events.upsert(exceptionObject({}, { name: "good" }));
      events.upsert(exceptionObject({ policies: [] }, { name: "bad" }));
      events.failed(new Error("connection reset"));
      events.remove(exceptionObject({}, { name: "gone" }));
    });
    await followExceptions(feed, live, app.tollgate.metrics, logs.logger);
    expect(live.all().map((e) => e.name)).toEqual(["good"]);
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      'tollgate_reloads_total{source="policyexception",result="success"} 1',
    );
    expect(metrics).toContain(
      'tollgate_reloads_total{source="policyexception",result="failure"} 1',
    );
    const ignored = logs
      .records()
      .find((r) => String(r.msg).startsWith("policy exception ignored"));
    expect(ignored).toMatchObject({ where: "PolicyException storage/bad", field: "spec.policies" });
    expect(logs.text).toContain("connection reset");
  });

  it("serves without the first list when it does not come", async () => {
    const { app, logs } = testApp();
    const live = new LiveExceptions();
    const feed = fakeFeed((events) => events.upsert(exceptionObject()), true);
    await followExceptions(feed, live, app.tollgate.metrics, logs.logger, 10);
    expect(logs.text).toContain("policy exceptions not listed yet");
    expect(live.counts().valid).toBe(1);
  });
});

describe("exception gauges", () => {
  /** The lines of one metric, without its HELP and TYPE. */
  async function series(registry: Registry, name: string): Promise<string[]> {
    const text = await registry.metrics();
    return text.split("\n").filter((line) => line.startsWith(`${name}{`));
  }

  it("count held exceptions by state and say when each one with an expiry runs out, read at scrape time", async () => {
    const live = new LiveExceptions();
    const registry = new Registry();
    registerExceptionGauges(registry, live);
    expect(await series(registry, "tollgate_policy_exceptions")).toEqual([
      'tollgate_policy_exceptions{state="valid"} 0',
      'tollgate_policy_exceptions{state="invalid"} 0',
    ]);

    live.upsert(exceptionObject({ expires: "2027-01-31T00:00:00Z" }, { name: "csi-node" }));
    live.upsert(exceptionObject({}, { name: "forever", namespace: "apps" }));
    live.upsert(exceptionObject({ expires: "soon" }, { name: "bad" }));
    expect(await series(registry, "tollgate_policy_exceptions")).toEqual([
      'tollgate_policy_exceptions{state="valid"} 2',
      'tollgate_policy_exceptions{state="invalid"} 1',
    ]);
    // Only exceptions that expire have a series; 2027-01-31T00:00:00Z is 1801353600.
    expect(await series(registry, "tollgate_policy_exception_expiry_timestamp_seconds")).toEqual([
      'tollgate_policy_exception_expiry_timestamp_seconds{exception="storage/csi-node"} 1801353600',
    ]);

    // A deleted exception's series goes with it; a new expiry shows at once.
    live.remove(exceptionObject({}, { name: "csi-node" }));
    live.upsert(
      exceptionObject({ expires: "2026-12-24T12:00:00Z" }, { name: "forever", namespace: "apps" }),
    );
    expect(await series(registry, "tollgate_policy_exception_expiry_timestamp_seconds")).toEqual([
      'tollgate_policy_exception_expiry_timestamp_seconds{exception="apps/forever"} 1798113600',
    ]);
    expect(await series(registry, "tollgate_policy_exceptions")).toEqual([
      'tollgate_policy_exceptions{state="valid"} 1',
      'tollgate_policy_exceptions{state="invalid"} 1',
    ]);
  });
});
