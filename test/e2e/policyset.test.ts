// The e2e suite runs Tollgate with test/e2e/policyset.yaml. It must be the
// product's shipped policy set plus the test registry and nothing else, or the
// suite would prove something other than what users install.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "./support/env.js";
import { TRUSTED_IMAGE } from "./support/manifests.js";

const TEST_REGISTRY = "registry.e2e.tollgate.test";

interface PolicySetFile {
  policies: { "trusted-registry": { parameters: { registries: string[] } } };
}

function load(path: string): PolicySetFile {
  return parse(readFileSync(`${REPO}${path}`, "utf8")) as PolicySetFile;
}

describe("the e2e policy set", () => {
  it("is deploy/base/policyset.yaml plus the test registry", () => {
    const shipped = load("deploy/base/policyset.yaml");
    const e2e = load("test/e2e/policyset.yaml");
    const registries = e2e.policies["trusted-registry"].parameters.registries;
    expect(registries).toContain(TEST_REGISTRY);
    expect(TRUSTED_IMAGE.startsWith(`${TEST_REGISTRY}/`)).toBe(true);

    e2e.policies["trusted-registry"].parameters.registries = registries.filter(
      (r) => r !== TEST_REGISTRY,
    );
    expect(e2e).toEqual(shipped);
  });
});
