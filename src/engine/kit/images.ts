import { DOCKER_HUB_ALIASES, type ImageRef, looksLikeHost } from "../image-ref.js";

/**
 * True when `ref` lives under `allowed`, an entry such as `contoso.azurecr.io`
 * or `contoso.azurecr.io/team`. Hosts must be equal and paths must match on
 * whole segments, so `contoso.azurecr.io.evil.com` and `contoso.azurecr.iox`
 * are different registries. A leading `*.` label matches one or more labels
 * in front of the rest of the host: `*.azurecr.io` covers `a.azurecr.io` and
 * `a.b.azurecr.io` but neither `azurecr.io` nor `a.azurecr.io.evil.com`. A
 * port is part of the host: `*.example.com` does not cover `a.example.com:5000`.
 */
export function isUnderRegistry(ref: ImageRef, allowed: string): boolean {
  return isUnderEntry(ref, parseRegistryEntry(allowed));
}

/** `isUnderRegistry` for an entry parsed beforehand, as a policy's `prepare` does. */
export function isUnderEntry(ref: ImageRef, entry: RegistryEntry): boolean {
  if (!hostMatches(entry.registry, ref.registry)) return false;
  if (entry.prefix === "") return true;
  return ref.repository === entry.prefix || ref.repository.startsWith(`${entry.prefix}/`);
}

/**
 * Why `allowed` cannot be used as a registry entry, or undefined when it can.
 * Entries start with a host (something with a dot or a port, or `localhost`),
 * optionally behind a single leading `*.`, and may continue with a path.
 */
export function registryEntryProblem(allowed: string): string | undefined {
  const trimmed = allowed.trim();
  if (trimmed === "") return "is empty; give a registry host such as contoso.azurecr.io";
  if (/[@\s]/.test(trimmed)) return "must be a registry host with an optional path, not an image";
  const { registry, prefix } = parseRegistryEntry(trimmed);
  const wildcard = registry.startsWith("*.");
  const host = wildcard ? registry.slice(2) : registry;
  if (host.includes("*") || prefix.includes("*")) {
    return "may only use * as a whole leading host label, as in *.azurecr.io";
  }
  if (host === "" || host.startsWith(".") || host.endsWith(".") || host.includes("..")) {
    return "has an empty host label";
  }
  if (wildcard && !splitPort(host).name.includes(".")) {
    return "may not put * right in front of a top-level domain; name the registry's domain";
  }
  if (!looksLikeHost(host)) {
    return "must start with a registry host such as contoso.azurecr.io or docker.io";
  }
  if (prefix.includes(":")) return "must not carry a tag; give a host and an optional path";
  if (prefix !== "" && prefix.split("/").includes("")) return "has an empty path segment";
  return undefined;
}

function splitPort(host: string): { name: string; port: string | undefined } {
  const colon = host.lastIndexOf(":");
  // An IPv6 literal keeps its colons inside brackets.
  return colon > host.lastIndexOf("]")
    ? { name: host.slice(0, colon), port: host.slice(colon + 1) }
    : { name: host, port: undefined };
}

function hostMatches(pattern: string, registry: string): boolean {
  if (!pattern.startsWith("*.")) return pattern === registry;
  const wanted = splitPort(pattern.slice(2));
  const actual = splitPort(registry);
  if (wanted.port !== actual.port || wanted.name === "") return false;
  const suffix = `.${wanted.name}`;
  return actual.name.length > suffix.length && actual.name.endsWith(suffix);
}

/** A trusted-registry entry split into its host (lower case) and path prefix. */
export interface RegistryEntry {
  registry: string;
  prefix: string;
}

export function parseRegistryEntry(allowed: string): RegistryEntry {
  const trimmed = withoutTrailingSlashes(allowed.trim());
  const slash = trimmed.indexOf("/");
  let registry = (slash >= 0 ? trimmed.slice(0, slash) : trimmed).toLowerCase();
  const prefix = slash >= 0 ? trimmed.slice(slash + 1) : "";
  if (DOCKER_HUB_ALIASES.has(registry)) registry = "docker.io";
  return { registry, prefix };
}

/** `/\/+$/` backtracks quadratically on long runs of slashes; a loop does not. */
function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === "/") end--;
  return text.slice(0, end);
}
