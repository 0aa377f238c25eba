/** A container image reference split into the parts registry rules need. */
export interface ImageRef {
  /** Lower-cased host, with port when given; `docker.io` for Docker Hub. */
  registry: string;
  /** Path below the registry; Docker Hub official images get `library/`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

function looksLikeHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/** Parses an image the way the container runtime resolves it; undefined when empty. */
export function parseImage(image: string): ImageRef | undefined {
  const trimmed = image.trim();
  if (trimmed === "") return undefined;
  const at = trimmed.indexOf("@");
  const digest = at >= 0 ? trimmed.slice(at + 1) : undefined;
  const name = at >= 0 ? trimmed.slice(0, at) : trimmed;
  const lastSlash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const tag = colon > lastSlash ? name.slice(colon + 1) : undefined;
  const path = colon > lastSlash ? name.slice(0, colon) : name;
  const slash = path.indexOf("/");
  const first = slash >= 0 ? path.slice(0, slash) : "";
  let registry = "docker.io";
  let repository = path;
  if (slash >= 0 && looksLikeHost(first)) {
    registry = first.toLowerCase();
    repository = path.slice(slash + 1);
  }
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = "docker.io";
    if (!repository.includes("/")) repository = `library/${repository}`;
  }
  return { registry, repository, tag, digest };
}

/**
 * True when `ref` lives under `allowed`, an entry such as `contoso.azurecr.io`
 * or `contoso.azurecr.io/team`. Hosts must be equal and paths must match on
 * whole segments, so `contoso.azurecr.io.evil.com` and `contoso.azurecr.iox`
 * are different registries.
 */
export function isUnderRegistry(ref: ImageRef, allowed: string): boolean {
  const entry = parseRegistryEntry(allowed);
  if (entry.registry !== ref.registry) return false;
  if (entry.prefix === "") return true;
  return ref.repository === entry.prefix || ref.repository.startsWith(`${entry.prefix}/`);
}

function parseRegistryEntry(allowed: string): { registry: string; prefix: string } {
  const trimmed = allowed.trim().replace(/\/+$/, "");
  const slash = trimmed.indexOf("/");
  let registry = (slash >= 0 ? trimmed.slice(0, slash) : trimmed).toLowerCase();
  const prefix = slash >= 0 ? trimmed.slice(slash + 1) : "";
  if (DOCKER_HUB_ALIASES.has(registry)) registry = "docker.io";
  return { registry, prefix };
}
