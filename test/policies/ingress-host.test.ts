import { describe, expect, it } from "vitest";
import ingressHost from "../../policies/ingress-host/index.js";
import { resolvePolicySet } from "../../src/policyset/index.js";
import { objectOf, onlyPolicies, run, shippedPolicies } from "../support/policies.js";
import { countingArray, regexWork } from "../support/work.js";

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

  it("reads each rule and TLS host a bounded number of times, however many there are", () => {
    // Each rule was once compared with every TLS host: 16,000 of each took 17 s.
    // Counted, not timed: n² reads would show as reads growing 4× when n doubles.
    if (ingressHost.scope !== "object") throw new Error("ingress-host judges whole objects");
    const validate = ingressHost.validate;
    const readsFor = (n: number) => {
      const names = Array.from({ length: n }, (_, i) => `h${i}.example.com`);
      // Listed in the opposite order, so a scan of the TLS hosts would go far for each rule.
      const rules = countingArray(names.map((host) => ({ host })));
      const tlsHosts = countingArray([...names].reverse());
      const object = {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: "i", namespace: "apps" },
        spec: { tls: [{ hosts: tlsHosts.array, secretName: "tls" }], rules: rules.array },
      };
      const work = regexWork(() =>
        validate?.(
          {
            resource: {
              apiVersion: "networking.k8s.io/v1",
              kind: "Ingress",
              namespace: "apps",
              name: "i",
            },
            object,
            oldObject: undefined,
            operation: "CREATE",
            pod: undefined,
          },
          { allowedDomains: ["example.com"], requireTls: true },
        ),
      );
      expect(work.result).toEqual([]);
      // Element reads, plus regex calls: host names are normalised with one each,
      // so comparing every rule with every TLS host shows up here even on a copy.
      return rules.reads() + tlsHosts.reads() + work.calls;
    };
    const small = readsFor(1_000);
    const large = readsFor(2_000);
    expect(small).toBeLessThanOrEqual(8 * 2 * 1_000);
    expect(large).toBeLessThanOrEqual(2.1 * small);
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
