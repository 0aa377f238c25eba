// The Kubernetes URL library: `url(s).getHost()` and friends. It accepts
// absolute URLs and absolute paths, as Go's url.ParseRequestURI does.

export class CelUrl {
  constructor(
    readonly scheme: string,
    readonly host: string,
    readonly hostname: string,
    readonly port: string,
    readonly escapedPath: string,
    readonly query: Map<string, string[]>,
    readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

/** The parsed URL, or undefined when it is neither absolute nor an absolute path. */
export function parseCelUrl(text: string): CelUrl | undefined {
  if (text.length > 4096 || /\s/.test(text)) return undefined;
  const isPath = text.startsWith("/");
  if (!isPath && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text, isPath ? "http://relative.invalid" : undefined);
  } catch {
    return undefined;
  }
  const query = new Map<string, string[]>();
  for (const [key, value] of parsed.searchParams)
    query.set(key, [...(query.get(key) ?? []), value]);
  const hostname = isPath ? "" : parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return new CelUrl(
    isPath ? "" : parsed.protocol.replace(/:$/, ""),
    isPath ? "" : parsed.host,
    hostname,
    isPath ? "" : parsed.port,
    parsed.pathname,
    query,
    text,
  );
}
