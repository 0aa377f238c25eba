// Paths and the cluster description shared by the global setup (vitest's main
// process) and the test files. No vitest runtime import here: global-setup.ts
// loads this module outside a test worker.
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const E2E_DIR = join(REPO, "test/e2e");
export const CONTROLPLANE_DIR = join(E2E_DIR, "controlplane");
export const DEFAULT_RUN_DIR = join(E2E_DIR, ".run");

/** What a test needs to know about the cluster under test. */
export interface E2ECluster {
  /**
   * `local`: the loopback control plane of test/e2e/controlplane, with
   * Tollgate running on the host (the suite may stop, restart and re-register
   * it). `external`: any other cluster with Tollgate already installed; the
   * tests that need to control the Tollgate process are skipped.
   */
  kind: "local" | "external";
  kubeconfig: string;
  kubectl: string;
  /** The API server's audit log, when this machine can read it. */
  auditLog: string | undefined;
  /** Local only: what up.sh and start-tollgate.sh wrote. */
  local?: LocalDetails;
}

export interface LocalDetails {
  runDir: string;
  envFile: string;
  caFile: string;
  webhookPort: number;
  pidFile: string;
  logFile: string;
}

declare module "vitest" {
  interface ProvidedContext {
    e2eCluster: E2ECluster;
  }
}

/** `export NAME=value` lines of up.sh's env file (values written with printf %q). */
export function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    values[match[1]] = match[2].replace(/^'(.*)'$/, "$1").replace(/\\(.)/g, "$1");
  }
  return values;
}

export function readable(file: string | undefined): file is string {
  if (!file || !existsSync(file)) return false;
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
