// The real kubectl binary against the cluster under test: what a user types,
// with the exit code and both streams kept for assertions.
import { spawn } from "node:child_process";
import { stringify } from "yaml";
import { cluster } from "./cluster.js";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  timeoutMs?: number;
}

/** Runs `kubectl --kubeconfig <cluster> ARGS...`; never throws on a non-zero exit. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<Result> {
  const { kubectl: binary, kubeconfig } = cluster();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["--kubeconfig", kubeconfig, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 30_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Multi-document YAML of the objects, as a user would write them. */
export function yamlOf(...objects: readonly object[]): string {
  return objects.map((o) => stringify(o)).join("---\n");
}

/** `kubectl apply -f -` with the objects on stdin; extra flags (e.g. --dry-run=server) after. */
export function apply(objects: object | readonly object[], ...flags: string[]): Promise<Result> {
  const list = Array.isArray(objects) ? objects : [objects];
  return kubectl(["apply", "-f", "-", ...flags], { input: yamlOf(...list) });
}

/** Throws with kubectl's output unless it exited 0. */
export function expectSuccess(result: Result, what: string): Result {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return result;
}

/** The `Warning: ...` lines kubectl printed (the API server's Warning headers). */
export function warningsOf(result: Result): string[] {
  return result.stderr
    .split("\n")
    .filter((line) => line.startsWith("Warning: "))
    .map((line) => line.slice("Warning: ".length));
}

/** The denial text after `denied the request: ` in kubectl's error, or undefined. */
export function denialOf(result: Result, webhook = "enforce.tollgate.dev"): string | undefined {
  const marker = `admission webhook "${webhook}" denied the request: `;
  const at = result.stderr.indexOf(marker);
  return at < 0 ? undefined : result.stderr.slice(at + marker.length).trimEnd();
}
