import { z } from "zod";
import { definePolicy, type Finding } from "../../src/engine/index.js";

const DOMAIN = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;

interface IngressSpec {
  defaultBackend?: unknown;
  rules?: unknown;
  tls?: unknown;
}

function normalize(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

/** `api.example.com` is within `example.com`; `badexample.com` is not. */
function isWithinDomain(host: string, domain: string): boolean {
  const h = normalize(host);
  const d = normalize(domain);
  return h === d || h.endsWith(`.${d}`);
}

/**
 * Whether a rule host is covered by a TLS host: exactly, or through a
 * wildcard of exactly one label. The TLS hosts are indexed once, so checking
 * every rule costs one lookup each rather than a pass over every TLS host:
 * both lists come from the request and may be long.
 */
function tlsCoverage(tlsHosts: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  // `*.example.com` is stored as `.example.com`, the part after the one label it stands for.
  const wildcardParents = new Set<string>();
  for (const t of tlsHosts.map(normalize)) {
    exact.add(t);
    if (t.startsWith("*.")) wildcardParents.add(t.slice(1));
  }
  return (host) => {
    const h = normalize(host);
    if (exact.has(h)) return true;
    const dot = h.indexOf(".");
    return dot > 0 && wildcardParents.has(h.slice(dot));
  };
}

function tlsHostsOf(tls: unknown): string[] {
  if (!Array.isArray(tls)) return [];
  return tls.flatMap((entry) => {
    const hosts = (entry as { hosts?: unknown } | null)?.hosts;
    return Array.isArray(hosts) ? hosts.filter((h): h is string => typeof h === "string") : [];
  });
}

export default definePolicy({
  id: "ingress-host",
  scope: "object",
  parameters: z
    .object({
      allowedDomains: z.array(
        z.string().regex(DOMAIN, "must be a domain such as example.com, without wildcard"),
      ),
      requireTls: z.boolean(),
    })
    .strict(),
  validate({ object }, params) {
    const spec = object.spec as IngressSpec | undefined;
    if (!spec || typeof spec !== "object") return [];
    const findings: Finding[] = [];
    const domains = params.allowedDomains;
    const within =
      domains.length > 0 ? ` under ${domains.map((d) => JSON.stringify(d)).join(" or ")}` : "";
    if (spec.defaultBackend !== undefined && spec.defaultBackend !== null) {
      findings.push({
        message:
          "sets spec.defaultBackend, which answers requests for any hostname; remove it and " +
          `route traffic through rules that each name a host${within}`,
        path: ["spec", "defaultBackend"],
      });
    }
    const coveredByTls = tlsCoverage(tlsHostsOf(spec.tls));
    const rules = Array.isArray(spec.rules) ? spec.rules : [];
    rules.forEach((rule: unknown, index) => {
      const path = ["spec", "rules", index, "host"];
      const host = (rule as { host?: unknown } | null)?.host;
      if (typeof host !== "string" || host.trim() === "") {
        findings.push({
          message: `rule ${index} has no host, so it answers requests for any hostname; set host to a fully qualified name${within}`,
          path,
        });
        return;
      }
      const wildcard = host.startsWith("*.");
      if (wildcard) {
        findings.push({
          message: `host "${host}" is a wildcard that claims every subdomain; list each hostname in its own rule`,
          path,
        });
      }
      const named = wildcard ? host.slice(2) : host;
      if (domains.length > 0 && !domains.some((d) => isWithinDomain(named, d))) {
        findings.push({
          message: `host "${host}" is outside the allowed domains; use a hostname${within}, or have the domain added to allowedDomains`,
          path,
        });
      }
      if (params.requireTls && !coveredByTls(host)) {
        findings.push({
          message: `host "${host}" is served without TLS; list it in the hosts of a spec.tls entry whose secretName holds a certificate for it`,
          path,
        });
      }
    });
    return findings;
  },
});
