// OPA, the benchmark's peer: built from the Go module proxy at the version
// pinned in test/bench/opa/go.mod, into test/bench/.run/bin/opa.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "./processes.js";

export const BENCH_DIR = fileURLToPath(new URL("../", import.meta.url));
export const RUN_DIR = `${BENCH_DIR}.run/`;
export const OPA_MODULE_DIR = `${BENCH_DIR}opa/`;
export const OPA_POLICY_DIR = `${OPA_MODULE_DIR}policy/`;
export const OPA_BINARY = `${RUN_DIR}bin/opa`;
const STAMP = `${RUN_DIR}bin/opa.stamp`;
export const OPA_PACKAGE = "github.com/open-policy-agent/opa";
/** The Rego rule that is the whole AdmissionReview answer. */
export const OPA_DECISION = "tollgate/admission/review";
export const OPA_QUERY = "data.tollgate.admission.review";

export function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
}

/** The OPA version go.mod pins. */
export function pinnedOpaVersion(): string {
  const mod = readFileSync(`${OPA_MODULE_DIR}go.mod`, "utf8");
  const version = new RegExp(`^\\s*${OPA_PACKAGE.replace(/\./g, "\\.")} (v\\S+)`, "m").exec(
    mod,
  )?.[1];
  if (!version) throw new Error(`test/bench/opa/go.mod does not require ${OPA_PACKAGE}`);
  return version;
}

/** What the binary was built from: the module files and the Go toolchain. */
function buildKey(go: string, goVersion: string): string {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum"]) hash.update(readFileSync(`${OPA_MODULE_DIR}${file}`));
  hash.update(go);
  hash.update(goVersion);
  return hash.digest("hex");
}

/**
 * Builds OPA unless the binary is already there for the same go.mod, go.sum
 * and Go version (then it does nothing, not even invoke the Go tool's cache).
 */
export async function ensureOpa(log: (line: string) => void): Promise<string> {
  const go = goBinary();
  const version = pinnedOpaVersion();
  const goVersion = (await run(go, ["env", "GOVERSION"])).stdout.trim();
  const key = buildKey(go, goVersion);
  if (existsSync(OPA_BINARY) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === key) {
    log(`OPA ${version} is built (${relative(OPA_BINARY)}); nothing to do`);
    return OPA_BINARY;
  }
  mkdirSync(`${RUN_DIR}bin`, { recursive: true });
  log(`building OPA ${version} with ${goVersion} (a cold build takes a few minutes) …`);
  const started = Date.now();
  const temporary = `${OPA_BINARY}.tmp`;
  let packages = 0;
  const ticker = setInterval(() => {
    log(`  … ${packages} packages compiled, ${Math.round((Date.now() - started) / 1000)}s`);
  }, 15_000);
  try {
    await run(go, ["build", "-v", "-trimpath", "-ldflags=-s -w", "-o", temporary, OPA_PACKAGE], {
      cwd: OPA_MODULE_DIR,
      env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" },
      // -v names each package as it is compiled: a progress counter.
      echo: (line) => {
        if (/^[\w.-]+(\/[\w.@~-]+)*$/.test(line.trim())) packages++;
        else if (line.trim()) log(`  go: ${line}`);
      },
      timeoutMs: 1_800_000,
    });
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    clearInterval(ticker);
  }
  renameSync(temporary, OPA_BINARY);
  writeFileSync(STAMP, `${key}\n`);
  log(
    `built OPA ${version} in ${Math.round((Date.now() - started) / 1000)}s (${packages} packages)`,
  );
  return OPA_BINARY;
}

export function relative(path: string): string {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  return path.startsWith(root) ? path.slice(root.length) : path;
}
