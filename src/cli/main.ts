#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { processIO } from "./context.js";
import { type RegisterCommand, runCli } from "./program.js";

/**
 * Every command of the CLI, by name, each loaded only when asked for: a
 * command line that names one loads that one alone, so `tollgate serve`
 * does not hold the audit, dashboard and report code in memory (about
 * 19 MiB of RSS). To add one, write `src/cli/commands/<name>.ts` exporting
 * `register(program)` and list it here (sorted).
 */
export const COMMAND_MODULES: Readonly<
  Record<string, () => Promise<{ register: RegisterCommand }>>
> = {
  audit: () => import("./commands/audit.js"),
  certs: () => import("./commands/certs.js"),
  dashboard: () => import("./commands/dashboard.js"),
  fix: () => import("./commands/fix.js"),
  policies: () => import("./commands/policies.js"),
  serve: () => import("./commands/serve.js"),
  test: () => import("./commands/test.js"),
};

/**
 * The commands a command line needs: the one its first word names, else
 * all of them (for the program's help, its version and the message for an
 * unknown command).
 */
export async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  const all = Object.entries(COMMAND_MODULES);
  const named = all.filter(([name]) => name === argv[0]);
  const modules = await Promise.all((named.length > 0 ? named : all).map(([, load]) => load()));
  return modules.map((module) => module.register);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `tollgate test … | head` closes the pipe early; that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  // Setting exitCode instead of calling exit lets piped stdout flush.
  const argv = process.argv.slice(2);
  process.exitCode = await runCli(argv, processIO(), await commandsFor(argv));
}
