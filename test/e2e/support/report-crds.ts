// The report CRDs the e2e suites install: wgpolicyk8s.io from
// deploy/crds/policyreports.yaml (Tollgate's own), openreports.io from the
// OpenReports project itself. Its CRDs are not copied into this repository:
// `go mod download` fetches the pinned module github.com/openreports/reports-api
// through the Go module proxy (checked against go.sum's database like any
// module) and the suite applies config/crd/*.yaml from the module cache.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiextensionsV1Api, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { kubeConfig, statusOf } from "./cluster.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** The OpenReports API release whose CRDs the suites install. */
export const OPENREPORTS_MODULE = "github.com/openreports/reports-api@v0.2.1";

function goCommand(): string {
  return process.env.GO ?? "go";
}

/** The module's directory in the Go module cache, downloaded if needed. */
export function openReportsModuleDir(): string {
  const result = spawnSync(goCommand(), ["mod", "download", "-json", OPENREPORTS_MODULE], {
    encoding: "utf8",
    timeout: 300_000,
    // Outside any module: GOFLAGS from a caller must not point at one.
    cwd: "/",
    env: { ...process.env, GOFLAGS: "-mod=mod" },
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `go mod download ${OPENREPORTS_MODULE} failed (Go and the module proxy are needed for the OpenReports CRDs): ${result.error?.message ?? result.stderr}`,
    );
  }
  const dir = (JSON.parse(result.stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${OPENREPORTS_MODULE} printed no Dir`);
  return dir;
}

function crdsIn(file: string): V1CustomResourceDefinition[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((doc) => doc.toJS() as V1CustomResourceDefinition)
    .filter((doc) => doc?.kind === "CustomResourceDefinition");
}

/** CRDs of one report API, as the suites install them. */
export function reportCrds(api: "wgpolicyk8s" | "openreports"): V1CustomResourceDefinition[] {
  if (api === "wgpolicyk8s") return crdsIn(join(REPO, "deploy/crds/policyreports.yaml"));
  const dir = join(openReportsModuleDir(), "config/crd");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => crdsIn(join(dir, f)));
}

/** Creates (or replaces) the CRDs of one report API and waits until the API server serves them. */
export function installReportCrds(api: "wgpolicyk8s" | "openreports"): Promise<string[]> {
  return installCrds(reportCrds(api));
}

/** Creates (or replaces) CRDs and waits until the API server serves them; their names. */
export async function installCrds(
  bodies: readonly V1CustomResourceDefinition[],
): Promise<string[]> {
  const crds = kubeConfig().makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const body of bodies) {
    const name = body.metadata?.name as string;
    try {
      await crds.createCustomResourceDefinition({ body });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const stored = await crds.readCustomResourceDefinition({ name });
      body.metadata = { ...body.metadata, resourceVersion: stored.metadata?.resourceVersion };
      await crds.replaceCustomResourceDefinition({ name, body });
    }
    for (let i = 0; ; i++) {
      const crd = await crds.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.some(
        (c) => c.type === "Established" && c.status === "True",
      );
      if (established) break;
      if (i > 100) throw new Error(`CRD ${name} not established after 10 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    names.push(name);
  }
  return names;
}
