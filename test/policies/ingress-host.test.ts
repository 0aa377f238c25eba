import { describe, expect, it } from "vitest";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { defaultSet, objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";

/** An Ingress with one rule per host, every host also listed under TLS. */
function ingress(hosts: string[], tls: string[] = hosts) {
  return objectOf(
    JSON.stringify({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "i", namespace: "apps" },
      spec: {
        tls: [{ hosts: tls, secretName: "tls" }],
        rules: hosts.map((host) => ({
          host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "web", port: { number: 80 } } },
              },
            ],
          },
        })),
      },
    }),
  );
}

function messages(object: ReturnType<typeof ingress>, parameters: Record<string, unknown> = {}) {
  return run(onlyPolicies(["ingress-host"], parameters), object).violations.map((v) => v.message);
}

describe("ingress-host", () => {
  const inDomain = { allowedDomains: ["example.com"] };

  it("admits a domain and its subdomains on label boundaries", () => {
    for (const host of ["example.com", "shop.example.com", "a.b.example.com"]) {
      expect(messages(ingress([host]), inDomain)).toEqual([]);
    }
  });

  it("rejects look-alike domains", () => {
    for (const host of [
      "badexample.com",
      "example.com.evil.io",
      "example.co",
      "xample.com",
      "example.comm",
    ]) {
      const found = messages(ingress([host]), inDomain);
      expect(found).toHaveLength(1);
      expect(found[0]).toContain(`host "${host}" is outside the allowed domains`);
      expect(found[0]).toContain('under "example.com"');
    }
  });

  it("accepts any of several domains", () => {
    const params = { allowedDomains: ["example.com", "contoso.net"] };
    expect(messages(ingress(["api.contoso.net", "example.com"]), params)).toEqual([]);
    expect(messages(ingress(["contoso.network"]), params)).toHaveLength(1);
  });

  it("reports a wildcard host both as a wildcard and against the domains", () => {
    const found = messages(ingress(["*.evil.io"]), inDomain);
    expect(found).toHaveLength(2);
    expect(found[0]).toContain("wildcard");
    expect(found[1]).toContain("outside the allowed domains");
  });

  it("accepts any domain when allowedDomains is empty, still without wildcards", () => {
    expect(messages(ingress(["anything.example.org"]))).toEqual([]);
    expect(messages(ingress(["*.example.org"]))).toHaveLength(1);
  });

  it("does not count a TLS entry without hosts", () => {
    expect(messages(ingress(["shop.example.com"], []))).toHaveLength(1);
  });

  it("counts a TLS host that names the rule host, ignoring case and a trailing dot", () => {
    expect(messages(ingress(["Shop.Example.com."], ["shop.example.COM"]))).toEqual([]);
    expect(messages(ingress(["shop.example.com"], ["example.com"]))).toHaveLength(1);
  });

  it("counts a TLS wildcard for exactly one label", () => {
    const tls = ["*.example.com"];
    expect(messages(ingress(["shop.example.com"], tls))).toEqual([]);
    for (const host of ["example.com", "a.b.example.com", "shopexample.com", "shop.example.co"]) {
      const found = messages(ingress([host], tls));
      expect(found, host).toHaveLength(1);
      expect(found[0]).toContain("served without TLS");
    }
    // A wildcard rule host is covered by the same wildcard, not by one a level up.
    expect(messages(ingress(["*.example.com"], tls)).join()).not.toContain("without TLS");
    expect(messages(ingress(["*.example.com"], ["*.com"])).join()).toContain("without TLS");
  });

  it("checks thousands of rules against thousands of TLS hosts in linear time", () => {
    // Each rule was once compared with every TLS host: 16,000 of each took 17 s.
    const n = 16_000;
    const hosts = Array.from({ length: n }, (_, i) => `h${i}.example.com`);
    // Listed in the opposite order, so a scan of the TLS hosts would go far for each rule.
    const object = ingress(hosts, [...hosts].reverse());
    const set = defaultSet();
    run(set, ingress(["warm-up.example.com"]));
    const started = performance.now();
    const verdict = run(set, object);
    const elapsed = performance.now() - started;
    console.log(
      `ingress-host: default policy set on ${n} rules x ${n} TLS hosts: ${elapsed.toFixed(1)} ms`,
    );
    expect(verdict.violations.filter((v) => v.message.includes("without TLS"))).toEqual([]);
    expect(elapsed).toBeLessThan(250);
  });

  it("lets requireTls be turned off", () => {
    expect(messages(ingress(["shop.example.com"], []), { requireTls: false })).toEqual([]);
  });

  it("rejects a wildcard in allowedDomains, naming the field", () => {
    const file = {
      apiVersion: "tollgate.dev/v1alpha1",
      kind: "PolicySet",
      policies: { "ingress-host": { parameters: { allowedDomains: ["*.example.com"] } } },
    };
    expect(() => resolvePolicySet(shippedPolicies(), file, "set.yaml")).toThrow(
      "policies.ingress-host.parameters.allowedDomains[0]",
    );
  });

  it("denies in enforce mode", () => {
    expect(run(onlyPolicies(["ingress-host"]), ingress(["*.example.org"])).allowed).toBe(false);
  });
});
