import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";
import type { CliIO } from "../../src/cli/context.js";
import { commandsFor } from "../../src/cli/main.js";
import { runCli } from "../../src/cli/program.js";
import type { KubeObject } from "../../src/engine/index.js";
import { parseManifests } from "../../src/manifests/read.js";
import type { JsonReport, JsonResult } from "../../src/render/test-json.js";
import { shippedPolicies } from "../support/policies.js";

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CaptureOptions {
  stdin?: string;
  env?: Record<string, string>;
  color?: boolean;
}

/** An in-memory CliIO and what was written to it. */
export function captureIO(options: CaptureOptions = {}): {
  io: CliIO;
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    stdin: async function* () {
      if (options.stdin === undefined) throw new Error("this test gives no stdin");
      // In pieces, as a pipe delivers it, so that documents span chunks.
      for (let at = 0; at < options.stdin.length; at += 4096) {
        yield options.stdin.slice(at, at + 4096);
      }
    },
    color: options.color ?? false,
    env: options.env ?? {},
  };
  return { io, out, err };
}

/** Runs `tollgate <args>` in-process with the real command list. */
export async function tollgate(args: string[], options: CaptureOptions = {}): Promise<Captured> {
  const { io, out, err } = captureIO(options);
  const code = await runCli(args, io, await commandsFor(args));
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder holding `files` (paths relative to it); removed after the test file. */
export function workspace(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-cli-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return dir;
}

/**
 * A PolicySet file enabling only `ids`, so that exact-output tests do not
 * change as policies are added to the registry.
 */
export function onlyPoliciesConfig(dir: string, ids: readonly string[]): string {
  const lines = ["apiVersion: tollgate.dev/v1alpha1", "kind: PolicySet", "policies:"];
  for (const { declaration } of shippedPolicies()) {
    lines.push(`  ${declaration.id}: { enabled: ${ids.includes(declaration.id)} }`);
  }
  const path = join(dir, "only-policies.yaml");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

export function objectsIn(text: string): KubeObject[] {
  const parsed = parseManifests(text, "output");
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  return parsed.objects.map((o) => o.object);
}

/** A privileged Pod without automountServiceAccountToken. */
export function privilegedPod(name: string, namespace = "apps"): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/app:1.0
      securityContext:
        privileged: true
`;
}

/** The `results` of a `tollgate test --format json` document. */
export function jsonResults(stdout: string): JsonResult[] {
  return (JSON.parse(stdout) as JsonReport).results;
}
