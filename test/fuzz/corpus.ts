// What the fuzzer starts from: every object in examples/ and in the policies'
// examples, each wrapped in an AdmissionReview as the API server sends it.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function objectsIn(file: string): Json[] {
  const text = readFileSync(`${ROOT}${file}`, "utf8");
  if (file.endsWith(".json")) {
    const review = JSON.parse(text) as { request?: { object?: unknown } };
    return isObject(review.request?.object) ? [review.request.object] : [];
  }
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter(isObject);
}

/** The example files, sorted so that a seed means the same run on every machine. */
export function corpusFiles(): string[] {
  const policyFiles = readdirSync(`${ROOT}policies`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const dir = `policies/${entry.name}/examples`;
      try {
        return readdirSync(`${ROOT}${dir}`)
          .filter((name) => name.endsWith(".yaml"))
          .map((name) => `${dir}/${name}`);
      } catch {
        return [];
      }
    });
  return ["examples/admission-review.json", "examples/web.yaml", ...policyFiles].sort();
}

/** Every Kubernetes object of the corpus files. */
export function corpusObjects(): Json[] {
  const objects = corpusFiles().flatMap(objectsIn);
  if (objects.length === 0) throw new Error("fuzz corpus: no objects in examples/ or policies/");
  return objects;
}

const GROUPS: Record<string, string> = { v1: "" };

/** Lower-case plural of a kind, as the API server names resources (good enough for a fuzzer). */
function resourceOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
  return lower.endsWith("s") ? `${lower}es` : `${lower}s`;
}

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** An admission.k8s.io/v1 AdmissionReview for `object`, with every field the API server fills. */
export function reviewFor(
  object: Json,
  uid: string,
  operation: Operation,
  oldObject: Json | null,
): Json {
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "v1";
  const slash = apiVersion.indexOf("/");
  const group = GROUPS[apiVersion] ?? (slash >= 0 ? apiVersion.slice(0, slash) : "");
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  const kindName = typeof object.kind === "string" && object.kind ? object.kind : "Pod";
  const kind = { group, version, kind: kindName };
  const resource = { group, version, resource: resourceOf(kindName) };
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const deleting = operation === "DELETE";
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      ...(typeof metadata.name === "string" ? { name: metadata.name } : {}),
      ...(typeof metadata.namespace === "string" ? { namespace: metadata.namespace } : {}),
      operation,
      userInfo: { username: "fuzz@example.com", groups: ["system:authenticated"] },
      object: deleting ? null : object,
      oldObject: deleting ? object : oldObject,
      dryRun: false,
      options: {
        apiVersion: "meta.k8s.io/v1",
        kind: `${operation[0]}${operation.slice(1).toLowerCase()}Options`,
      },
    },
  };
}
