import { describe, expect, it } from "vitest";
import {
  covers,
  coversFinding,
  exceptionLookup,
  exceptionsCovering,
  indexExceptions,
  inForce,
} from "../../src/exceptions/index.js";
import { exception } from "./support.js";

const daemonSet = {
  namespace: "storage",
  kind: "DaemonSet",
  name: "csi-node-azure",
  labels: { app: "csi-node", tier: "system" },
};

describe("which objects an exception covers", () => {
  it("covers every object of its own namespace when match is empty", () => {
    const e = exception();
    expect(covers(e, daemonSet)).toBe(true);
    expect(covers(e, { ...daemonSet, kind: "Deployment", name: "web", labels: {} })).toBe(true);
  });

  it("never covers another namespace or a cluster-scoped object", () => {
    const e = exception({ match: { names: ["csi-node*"] } });
    expect(covers(e, { ...daemonSet, namespace: "team-b" })).toBe(false);
    expect(covers(e, { ...daemonSet, namespace: undefined })).toBe(false);
  });

  it("narrows by kind, by name glob and by label selector, all of which must hold", () => {
    const e = exception({
      match: {
        kinds: ["DaemonSet"],
        names: ["csi-node*"],
        selector: { matchLabels: { app: "csi-node" } },
      },
    });
    expect(covers(e, daemonSet)).toBe(true);
    expect(covers(e, { ...daemonSet, kind: "Deployment" })).toBe(false);
    expect(covers(e, { ...daemonSet, name: "web" })).toBe(false);
    expect(covers(e, { ...daemonSet, labels: { app: "web" } })).toBe(false);
  });

  it("supports matchExpressions with In, NotIn, Exists and DoesNotExist", () => {
    const select = (matchExpressions: unknown[]) =>
      covers(exception({ match: { selector: { matchExpressions } } }), daemonSet);
    expect(select([{ key: "app", operator: "In", values: ["csi-node", "x"] }])).toBe(true);
    expect(select([{ key: "app", operator: "In", values: ["x"] }])).toBe(false);
    expect(select([{ key: "app", operator: "NotIn", values: ["x"] }])).toBe(true);
    expect(select([{ key: "missing", operator: "NotIn", values: ["x"] }])).toBe(true);
    expect(select([{ key: "tier", operator: "Exists" }])).toBe(true);
    expect(select([{ key: "tier", operator: "DoesNotExist" }])).toBe(false);
    expect(
      select([
        { key: "tier", operator: "Exists" },
        { key: "app", operator: "NotIn", values: ["csi-node"] },
      ]),
    ).toBe(false);
  });

  it("covers only the listed policies and, with containers, only those containers' findings", () => {
    const e = exception({ policies: ["privileged"], containers: ["driver"] });
    expect(coversFinding(e, "privileged", "driver")).toBe(true);
    expect(coversFinding(e, "privileged", "sidecar")).toBe(false);
    expect(coversFinding(e, "privileged", undefined)).toBe(false);
    expect(coversFinding(e, "host-path", "driver")).toBe(false);
    const anyContainer = exception({ policies: ["host-path"] });
    expect(coversFinding(anyContainer, "host-path", undefined)).toBe(true);
  });
});

describe("expiry", () => {
  const e = exception({ expires: "2027-01-31T00:00:00Z" });
  const at = (iso: string) => Date.parse(iso);

  it("applies until the instant it expires, and not from then on", () => {
    expect(inForce(e, at("2027-01-30T23:59:59.999Z"))).toBe(true);
    expect(inForce(e, at("2027-01-31T00:00:00Z"))).toBe(false);
    expect(inForce(e, at("2030-01-01T00:00:00Z"))).toBe(false);
  });

  it("reads offsets: 01:00+01:00 is midnight UTC", () => {
    const offset = exception({ expires: "2027-01-31T01:00:00+01:00" });
    expect(offset.expiresAt).toBe(at("2027-01-31T00:00:00Z"));
  });

  it("never expires without expires", () => {
    expect(inForce(exception(), at("2999-01-01T00:00:00Z"))).toBe(true);
  });

  it("is judged by the clock of each lookup, so no restart is needed", () => {
    const index = indexExceptions([e]);
    const mayHold = () => true;
    const before = exceptionsCovering(index, daemonSet, {
      now: at("2027-01-01T00:00:00Z"),
      mayHold,
    });
    const after = exceptionsCovering(index, daemonSet, {
      now: at("2027-02-01T00:00:00Z"),
      mayHold,
    });
    expect(before.map((x) => x.name)).toEqual(["csi-node"]);
    expect(after).toEqual([]);
  });
});

describe("the engine's lookup", () => {
  const resource = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    namespace: "storage",
    name: "csi-node",
  };
  const object = { metadata: { name: "csi-node", labels: { app: "csi-node" } } };
  const options = { now: Date.parse("2026-12-01T00:00:00Z"), mayHold: () => true };

  it("names the exception that covers a finding, with its expiry and reason", () => {
    const lookup = exceptionLookup(
      indexExceptions([exception({ expires: "2027-01-31T00:00:00Z" }, { namespace: "storage" })]),
      options,
    )(resource, object);
    expect(lookup?.("privileged", "driver")).toEqual({
      namespace: "storage",
      name: "csi-node",
      expires: "2027-01-31T00:00:00Z",
      reason: "CSI node plugin mounts host paths and needs privileges",
    });
    expect(lookup?.("read-only-root", "driver")).toBeUndefined();
  });

  it("picks the first covering exception by name", () => {
    const index = indexExceptions([
      exception({}, { name: "zz-late" }),
      exception({}, { name: "aa-early" }),
    ]);
    expect(exceptionLookup(index, options)(resource, object)?.("privileged", "c")?.name).toBe(
      "aa-early",
    );
  });

  it("ignores exceptions in namespaces the PolicySet does not allow to hold them", () => {
    const index = indexExceptions([exception()]);
    const denied = exceptionLookup(index, { ...options, mayHold: (ns) => ns !== "storage" });
    expect(denied(resource, object)).toBeUndefined();
  });

  it("looks only at the request's own namespace, whatever the number of exceptions", () => {
    const many = Array.from({ length: 1000 }, (_, i) => exception({}, { namespace: `ns-${i}` }));
    let asked = 0;
    const index = indexExceptions(many);
    const counting = {
      ...options,
      mayHold: () => {
        asked++;
        return true;
      },
    };
    expect(exceptionLookup(index, counting)(resource, object)).toBeUndefined();
    expect(index.get("ns-7")?.length).toBe(1);
    expect(asked).toBe(1);
  });
});
