// Image references, as the container runtime reads them. In the core because
// every container's image is parsed once per evaluation (ContainerTarget.imageRef)
// for all the policies that look at it; registry rules are in the kit.
/** A container image reference split into the parts registry rules need. */
export interface ImageRef {
  /** Lower-cased host, with port when given; `docker.io` for Docker Hub. */
  registry: string;
  /** Path below the registry; Docker Hub official images get `library/`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

export const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A first path component that names a registry host rather than a Docker Hub user. */
export function looksLikeHost(component: string): boolean {
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
