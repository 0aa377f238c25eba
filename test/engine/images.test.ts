import { describe, expect, it } from "vitest";
import { type ImageRef, memoImageParser, parseImage } from "../../src/engine/image-ref.js";
import { isUnderRegistry, registryEntryProblem } from "../../src/engine/kit/images.js";

function ref(image: string): ImageRef {
  const parsed = parseImage(image);
  if (!parsed) throw new Error(`"${image}" did not parse`);
  return parsed;
}

function under(image: string, entry: string): boolean {
  return isUnderRegistry(ref(image), entry);
}

describe("parseImage", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", undefined, undefined],
    ["nginx:1.25", "docker.io", "library/nginx", "1.25", undefined],
    ["library/nginx", "docker.io", "library/nginx", undefined, undefined],
    ["bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", undefined],
    ["docker.io/nginx", "docker.io", "library/nginx", undefined, undefined],
    ["index.docker.io/nginx:1", "docker.io", "library/nginx", "1", undefined],
    ["registry-1.docker.io/library/nginx", "docker.io", "library/nginx", undefined, undefined],
    ["Docker.IO/bitnami/redis", "docker.io", "bitnami/redis", undefined, undefined],
    ["localhost/app:1", "localhost", "app", "1", undefined],
    ["localhost:5000/app", "localhost:5000", "app", undefined, undefined],
    ["myreg:5000/team/app:1.0", "myreg:5000", "team/app", "1.0", undefined],
    ["[::1]:5000/app:2", "[::1]:5000", "app", "2", undefined],
    ["CONTOSO.AzureCR.io/Team/App:V1", "contoso.azurecr.io", "Team/App", "V1", undefined],
    ["nginx@sha256:abc", "docker.io", "library/nginx", undefined, "sha256:abc"],
    ["nginx:1.25@sha256:abc", "docker.io", "library/nginx", "1.25", "sha256:abc"],
    ["localhost:5000/app@sha256:abc", "localhost:5000", "app", undefined, "sha256:abc"],
    ["reg.example.com:443/a/b:c@sha256:d", "reg.example.com:443", "a/b", "c", "sha256:d"],
    ["  mcr.microsoft.com/app:1.0  ", "mcr.microsoft.com", "app", "1.0", undefined],
  ])("%s", (image, registry, repository, tag, digest) => {
    expect(parseImage(image)).toEqual({ registry, repository, tag, digest });
  });

  it("reads a first component without dot, colon or localhost as a Docker Hub namespace", () => {
    expect(ref("contoso/app:1")).toMatchObject({
      registry: "docker.io",
      repository: "contoso/app",
    });
    // With no slash, a colon is a tag separator, never a port.
    expect(ref("registry:5000")).toMatchObject({
      registry: "docker.io",
      repository: "library/registry",
      tag: "5000",
    });
  });

  it("returns undefined for an empty or blank image", () => {
    expect(parseImage("")).toBeUndefined();
    expect(parseImage("   ")).toBeUndefined();
  });
});

describe("memoImageParser", () => {
  const images = [
    "nginx",
    "docker.io/nginx:1.25",
    "MCR.microsoft.com/app@sha256:abc",
    "localhost:5000/x",
    " ",
    "",
  ];

  it("parses as parseImage does, and hands back frozen references", () => {
    const parse = memoImageParser();
    for (const round of [1, 2]) {
      for (const image of images) {
        expect(parse(image), `${image} (round ${round})`).toEqual(parseImage(image));
        const parsed = parse(image);
        if (parsed) expect(Object.isFrozen(parsed)).toBe(true);
      }
    }
  });

  it("keeps a bounded number of short references, and none longer than 512 characters", () => {
    const parse = memoImageParser();
    const first = parse("mcr.microsoft.com/a:1");
    expect(parse("mcr.microsoft.com/a:1")).toBe(first);
    const long = `mcr.microsoft.com/${"a".repeat(600)}:1`;
    expect(parse(long)).not.toBe(parse(long));
    expect(parse(long)).toEqual(parseImage(long));
    for (let i = 0; i < 1024; i++) parse(`mcr.microsoft.com/b${i}:1`);
    // Full: it started over, so the first reference is parsed anew.
    const again = parse("mcr.microsoft.com/a:1");
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe("isUnderRegistry", () => {
  it("matches a host entry exactly, ignoring case", () => {
    expect(under("contoso.azurecr.io/app:1", "contoso.azurecr.io")).toBe(true);
    expect(under("CONTOSO.azurecr.io/app:1", "contoso.azurecr.io")).toBe(true);
    expect(under("contoso.azurecr.io/app:1", "Contoso.AzureCR.io")).toBe(true);
  });

  it("rejects hosts that only look alike", () => {
    expect(under("contoso.azurecr.io.evil.com/app:1", "contoso.azurecr.io")).toBe(false);
    expect(under("contoso.azurecr.iox/app:1", "contoso.azurecr.io")).toBe(false);
    expect(under("evilcontoso.azurecr.io/app:1", "contoso.azurecr.io")).toBe(false);
    expect(under("azurecr.io/app:1", "contoso.azurecr.io")).toBe(false);
    // A registry name used as a Docker Hub namespace is still Docker Hub.
    expect(under("contoso/app:1", "contoso.azurecr.io")).toBe(false);
  });

  it("treats the port as part of the host", () => {
    expect(under("localhost:5000/app", "localhost:5000")).toBe(true);
    expect(under("localhost/app", "localhost:5000")).toBe(false);
    expect(under("localhost:5001/app", "localhost:5000")).toBe(false);
    expect(under("localhost:5000/app", "localhost")).toBe(false);
  });

  it("resolves Docker Hub short names and aliases on both sides", () => {
    expect(under("nginx", "docker.io")).toBe(true);
    expect(under("nginx", "docker.io/library")).toBe(true);
    expect(under("nginx", "index.docker.io/library")).toBe(true);
    expect(under("index.docker.io/bitnami/redis", "docker.io/bitnami")).toBe(true);
    expect(under("nginx", "mcr.microsoft.com")).toBe(false);
    expect(under("bitnami/redis", "docker.io/library")).toBe(false);
  });

  it("matches path prefixes on whole segments", () => {
    expect(under("contoso.azurecr.io/team/app:1", "contoso.azurecr.io/team")).toBe(true);
    expect(under("contoso.azurecr.io/team/app:1", "contoso.azurecr.io/team/")).toBe(true);
    expect(under("contoso.azurecr.io/team:1", "contoso.azurecr.io/team")).toBe(true);
    expect(under("contoso.azurecr.io/team-b/app:1", "contoso.azurecr.io/team")).toBe(false);
    expect(under("contoso.azurecr.io/teamx:1", "contoso.azurecr.io/team")).toBe(false);
    expect(under("contoso.azurecr.io/other/team/app", "contoso.azurecr.io/team")).toBe(false);
  });

  it("accepts digests, with or without a tag", () => {
    expect(under("mcr.microsoft.com/app@sha256:abc", "mcr.microsoft.com")).toBe(true);
    expect(under("mcr.microsoft.com/app:1.0@sha256:abc", "mcr.microsoft.com")).toBe(true);
    expect(under("evil.io/app@sha256:abc", "mcr.microsoft.com")).toBe(false);
  });

  describe("leading *. wildcard", () => {
    it("matches one or more labels in front of the suffix", () => {
      expect(under("a.azurecr.io/app:1", "*.azurecr.io")).toBe(true);
      expect(under("a.b.azurecr.io/app:1", "*.azurecr.io")).toBe(true);
      expect(under("A.AzureCR.io/app:1", "*.azurecr.io")).toBe(true);
    });

    it("stops at label boundaries", () => {
      expect(under("azurecr.io/app:1", "*.azurecr.io")).toBe(false);
      expect(under("evilazurecr.io/app:1", "*.azurecr.io")).toBe(false);
      expect(under("a.azurecr.io.evil.com/app:1", "*.azurecr.io")).toBe(false);
      expect(under("a.azurecr.iox/app:1", "*.azurecr.io")).toBe(false);
    });

    it("keeps ports and paths strict", () => {
      expect(under("a.example.com:5000/app", "*.example.com")).toBe(false);
      expect(under("a.example.com:5000/app", "*.example.com:5000")).toBe(true);
      expect(under("a.example.com/app", "*.example.com:5000")).toBe(false);
      expect(under("a.azurecr.io/team/app:1", "*.azurecr.io/team")).toBe(true);
      expect(under("a.azurecr.io/other/app:1", "*.azurecr.io/team")).toBe(false);
    });
  });
});

describe("registryEntryProblem", () => {
  it.each([
    "mcr.microsoft.com",
    "contoso.azurecr.io/team",
    "contoso.azurecr.io/team/",
    "docker.io/library",
    "localhost",
    "localhost:5000",
    "myreg:5000/team",
    "*.azurecr.io",
    "*.azurecr.io/team",
    "*.example.com:5000",
  ])("accepts %s", (entry) => {
    expect(registryEntryProblem(entry)).toBeUndefined();
  });

  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["nginx", /registry host/],
    ["bitnami/redis", /registry host/],
    ["*.io", /top-level domain/],
    ["*azurecr.io", /whole leading host label/],
    ["contoso.*.io", /whole leading host label/],
    ["contoso.azurecr.io/*", /whole leading host label/],
    ["*.*.azurecr.io", /whole leading host label/],
    ["contoso..azurecr.io", /empty host label/],
    ["contoso.azurecr.io//team", /empty path segment/],
    ["contoso.azurecr.io/app:1.0", /tag/],
    ["contoso.azurecr.io/app@sha256:abc", /not an image/],
  ])("rejects %j", (entry, problem) => {
    expect(registryEntryProblem(entry)).toMatch(problem);
  });
});
