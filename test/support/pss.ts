// Locates the Pod Security Admission test fixtures through the Go module
// proxy at test time, so that none of them is copied into this repository.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";

export const PSS_MODULE = "k8s.io/pod-security-admission";
/** The module release whose fixtures the conformance test reads. Bump it to follow Kubernetes. */
export const PSS_MODULE_VERSION = "v0.37.2";

export const PSS_LEVELS = ["baseline", "restricted"] as const;
export type PssLevel = (typeof PSS_LEVELS)[number];

export interface PssFixture {
  level: PssLevel;
  expected: "pass" | "fail";
  /** File name, e.g. `capabilities_baseline0.yaml`. */
  file: string;
  /** Lower-case check name from the file name (`capabilities_baseline`), or `base` for the base pods. */
  check: string;
  object: KubeObject;
}

export interface PssFixtures {
  moduleDir: string;
  /** The Kubernetes policy version folder read for each level, e.g. `v1.37`. */
  policyVersion: Record<PssLevel, string>;
  fixtures: PssFixture[];
}

const GO_CANDIDATES = [process.env.GO, "go", "/usr/local/go/bin/go"].filter(
  (c): c is string => typeof c === "string" && c !== "",
);

function findGo(): string {
  for (const candidate of GO_CANDIDATES) {
    try {
      execFileSync(candidate, ["version"], { stdio: "ignore", timeout: 30_000 });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `PSS conformance needs the Go toolchain to fetch ${PSS_MODULE}@${PSS_MODULE_VERSION}; ` +
      `none of ${GO_CANDIDATES.join(", ")} runs. Install Go or set GO to its path.`,
  );
}

/** Runs `go mod download -json` and returns the module's extracted directory. */
export function downloadPssModule(): string {
  const go = findGo();
  const target = `${PSS_MODULE}@${PSS_MODULE_VERSION}`;
  let output: string;
  try {
    output = execFileSync(go, ["mod", "download", "-json", target], {
      // Outside any go.mod, so the repository's own Go modules play no part.
      cwd: tmpdir(),
      env: { ...process.env, GO111MODULE: "on", GOFLAGS: "" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    const detail = (failed.stdout || failed.stderr || failed.message).trim();
    throw new Error(
      `PSS conformance could not download ${target} (is the Go module proxy reachable?): ${detail}`,
    );
  }
  const info = JSON.parse(output) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir || !existsSync(info.Dir)) {
    throw new Error(`go mod download ${target} gave no module directory: ${info.Error ?? output}`);
  }
  return info.Dir;
}

/** The highest `v1.N` folder under one level's test data. */
function newestPolicyVersion(levelDir: string): string {
  const versions = readdirSync(levelDir)
    .map((name) => ({ name, minor: /^v1\.(\d+)$/.exec(name)?.[1] }))
    .filter((v): v is { name: string; minor: string } => v.minor !== undefined)
    .sort((a, b) => Number(b.minor) - Number(a.minor));
  const newest = versions[0];
  if (!newest) throw new Error(`no v1.N folder in ${levelDir}`);
  return newest.name;
}

function checkOf(file: string): string {
  const stem = file.replace(/\.yaml$/, "");
  return stem === "base" || stem.startsWith("base_") ? "base" : stem.replace(/\d+$/, "");
}

/** Every pass and fail fixture of the newest policy version, for both levels. */
export function loadPssFixtures(): PssFixtures {
  const moduleDir = downloadPssModule();
  const testdata = join(moduleDir, "test", "testdata");
  const fixtures: PssFixture[] = [];
  const policyVersion = {} as Record<PssLevel, string>;
  for (const level of PSS_LEVELS) {
    const version = newestPolicyVersion(join(testdata, level));
    policyVersion[level] = version;
    for (const expected of ["pass", "fail"] as const) {
      const dir = join(testdata, level, version, expected);
      for (const file of readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .sort()) {
        const parsed = parseManifests(readFileSync(join(dir, file), "utf8"), file);
        const [first] = parsed.objects;
        if (parsed.problems.length > 0 || !first || parsed.objects.length !== 1) {
          throw new Error(`${level}/${version}/${expected}/${file}: expected one object`);
        }
        fixtures.push({ level, expected, file, check: checkOf(file), object: first.object });
      }
    }
  }
  return { moduleDir, policyVersion, fixtures };
}
