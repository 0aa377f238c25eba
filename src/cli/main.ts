#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { register as audit } from "./commands/audit.js";
import { register as certs } from "./commands/certs.js";
import { register as dashboard } from "./commands/dashboard.js";
import { register as fix } from "./commands/fix.js";
import { register as policies } from "./commands/policies.js";
import { register as serve } from "./commands/serve.js";
import { register as test } from "./commands/test.js";
import { processIO } from "./context.js";
import { type RegisterCommand, runCli } from "./program.js";

/**
 * Every command of the CLI. To add one, write `src/cli/commands/<name>.ts`
 * exporting `register(program)`, import it above and list it here (sorted).
 */
export const COMMANDS: readonly RegisterCommand[] = [
  audit,
  certs,
  dashboard,
  fix,
  policies,
  serve,
  test,
];

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
  process.exitCode = await runCli(process.argv.slice(2), processIO(), COMMANDS);
}
