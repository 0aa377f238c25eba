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

/** How an image reference is parsed: `parseImage`, or a memo of it. */
export type ImageParser = (image: string) => ImageRef | undefined;

/** Longer references are parsed each time, so the memo holds at most about MAX_MEMO x 512 characters. */
const MAX_MEMO_IMAGE = 512;
const MAX_MEMO = 1024;

/**
 * `parseImage` with a bounded memo, for one compiled policy set: the same
 * images come back request after request. Pure in effect (the same image
 * always gives an equal, frozen reference); at MAX_MEMO images it starts
 * over, and references longer than any real one are not kept.
 */
export function memoImageParser(): ImageParser {
  const memo = new Map<string, ImageRef>();
  return (image) => {
    const known = memo.get(image);
    if (known) return known;
    const parsed = parseImage(image);
    if (parsed === undefined || image.length > MAX_MEMO_IMAGE) return parsed;
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(image, Object.freeze(parsed));
    return parsed;
  };
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
