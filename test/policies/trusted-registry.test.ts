import { describe, expect, it } from "vitest";
import { PolicyLoadError, resolvePolicySet } from "../../src/policyset/index.js";
import { podWithImage } from "../support/manifests.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

function admitted(registries: string[], image: string): boolean {
  const verdict = run(onlyPolicies(["trusted-registry"], { registries }), podWithImage(image));
  return verdict.violations.length === 0;
}

describe("trusted-registry", () => {
  it("denies by default and names the fix", () => {
    const verdict = run(onlyPolicies(["trusted-registry"]), podWithImage("nginx:1.27"));
    expect(verdict.allowed).toBe(false);
    expect(verdict.violations).toHaveLength(1);
    expect(verdict.violations[0]?.action).toBe("deny");
    // The registry host, which is what the registries list holds.
    expect(verdict.violations[0]?.message).toContain(
      'uses image "nginx:1.27" from docker.io, which',
    );
    expect(verdict.violations[0]?.message).toContain("mcr.microsoft.com");
  });

  it.each([
    "contoso.azurecr.io.evil.com/app:1",
    "contoso.azurecr.iox/app:1",
    "evilcontoso.azurecr.io/app:1",
    "contoso/app:1",
    "contoso.azurecr.io:443/app:1",
  ])("rejects the look-alike %s", (image) => {
    expect(admitted(["contoso.azurecr.io"], image)).toBe(false);
  });

  it.each([
    "contoso.azurecr.io/app:1",
    "CONTOSO.AZURECR.IO/app:1",
    "contoso.azurecr.io/team/app@sha256:abc",
    "contoso.azurecr.io/app:1.0@sha256:abc",
  ])("accepts %s from contoso.azurecr.io", (image) => {
    expect(admitted(["contoso.azurecr.io"], image)).toBe(true);
  });

  it("resolves short Docker Hub names", () => {
    expect(admitted(["docker.io/library"], "nginx:1.27")).toBe(true);
    expect(admitted(["docker.io/library"], "index.docker.io/library/nginx:1.27")).toBe(true);
    expect(admitted(["docker.io/library"], "bitnami/nginx:1.27")).toBe(false);
    expect(admitted(["index.docker.io"], "bitnami/nginx:1.27")).toBe(true);
  });

  it("matches path prefixes on whole segments", () => {
    const registries = ["contoso.azurecr.io/team-a"];
    expect(admitted(registries, "contoso.azurecr.io/team-a/app:1")).toBe(true);
    expect(admitted(registries, "contoso.azurecr.io/team-ab/app:1")).toBe(false);
    expect(admitted(registries, "contoso.azurecr.io/team-b/app:1")).toBe(false);
  });

  it("supports a leading *. host wildcard", () => {
    const registries = ["*.azurecr.io"];
    expect(admitted(registries, "fabrikam.azurecr.io/app:1")).toBe(true);
    expect(admitted(registries, "azurecr.io/app:1")).toBe(false);
    expect(admitted(registries, "fabrikam.azurecr.io.evil.com/app:1")).toBe(false);
  });

  it("accepts local registries with ports", () => {
    expect(admitted(["localhost:5000"], "localhost:5000/app:1")).toBe(true);
    expect(admitted(["localhost:5000"], "localhost/app:1")).toBe(false);
  });

  it("flags a missing, empty or blank image", () => {
    for (const image of ["", "  "]) {
      const verdict = run(onlyPolicies(["trusted-registry"]), podWithImage(image));
      expect(verdict.violations.map((v) => v.path)).toEqual(["spec.containers[0].image"]);
      expect(verdict.violations[0]?.message).toContain("has no image");
    }
  });

  it("checks ephemeral debug containers too", () => {
    const object = objectOf(`
apiVersion: v1
kind: Pod
metadata: { name: app, namespace: apps }
spec:
  containers: [{ name: app, image: mcr.microsoft.com/app:1 }]
  ephemeralContainers: [{ name: shell, image: busybox:1.36 }]
`);
    const verdict = run(onlyPolicies(["trusted-registry"]), object);
    expect(verdict.violations.map((v) => v.container)).toEqual(["shell"]);
  });

  describe("parameters", () => {
    const header = { apiVersion: "tollgate.dev/v1alpha1", kind: "PolicySet" };
    function load(registries: unknown) {
      return () =>
        resolvePolicySet(
          shippedPolicies(),
          { ...header, policies: { "trusted-registry": { parameters: { registries } } } },
          "set.yaml",
        );
    }

    it("accepts hosts, paths and wildcards", () => {
      expect(load(["contoso.azurecr.io/team", "*.azurecr.io", "localhost:5000"])).not.toThrow();
    });

    it.each([
      [[], "registries"],
      [["nginx"], "registries[0]"],
      [["mcr.microsoft.com", "contoso.*.io"], "registries[1]"],
      [["*.io"], "registries[0]"],
      [["contoso.azurecr.io/app:1.0"], "registries[0]"],
    ])("rejects %j naming the field", (registries, field) => {
      expect(load(registries)).toThrow(PolicyLoadError);
      expect(load(registries)).toThrow(`policies.trusted-registry.parameters.${field}`);
    });
  });

  it("names the registry host of a long repository path, and a wrong image type", () => {
    const deep = run(
      onlyPolicies(["trusted-registry"]),
      podWithImage("ghcr.io/org/team/tool/app:1.0"),
    );
    expect(deep.violations[0]?.message).toContain("from ghcr.io, which is not a trusted registry");

    const pod = objectOf(
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "apps" },
        spec: { containers: [{ name: "app", image: 42 }] },
      }),
    );
    const typed = run(onlyPolicies(["trusted-registry"]), pod);
    expect(typed.violations[0]?.message).toContain("sets image to 42 (a number)");
    expect(typed.violations[0]?.message).not.toContain("has no image");
  });
});
