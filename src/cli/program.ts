import { readFileSync } from "node:fs";
import { Command } from "commander";
import { attachIO, type CliIO, exitCodeOf } from "./context.js";
import { EXIT, isCommanderError, isKnownError } from "./errors.js";

/** What every `src/cli/commands/<name>.ts` exports. */
export type RegisterCommand = (program: Command) => void;

/** The version in the package.json above this file, in source and in dist/ alike. */
export function packageVersion(): string {
  let dir = new URL("./", import.meta.url);
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "tollgate" && pkg.version) return pkg.version;
    } catch {
      // Not here; look one folder up.
    }
    dir = new URL("../", dir);
  }
  return "0.0.0-unknown";
}

export function buildProgram(io: CliIO, commands: readonly RegisterCommand[]): Command {
  const program = new Command("tollgate");
  attachIO(program, io);
  // Settings made before `command()` are inherited by every subcommand.
  program
    .description("Kubernetes admission webhook and CLI that enforce the AKS checklist")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (message, write) => write(`tollgate: ${message.replace(/^error: /, "")}`),
    });
  for (const register of commands) register(program);
  return program;
}

/**
 * Prints an error the way users should see it and returns the exit code:
 * one line for errors we expect, and never a stack unless TOLLGATE_DEBUG=1.
 */
export function reportError(error: unknown, io: CliIO): number {
  if (isCommanderError(error)) {
    // Commander has already printed its message (or the help or version).
    return error.exitCode === 0 ? EXIT.ok : EXIT.error;
  }
  if (isKnownError(error)) {
    io.stderr(`tollgate: ${error.message}\n`);
    return EXIT.error;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`tollgate: internal error: ${message}\n`);
  if (io.env.TOLLGATE_DEBUG === "1" && error instanceof Error && error.stack) {
    io.stderr(`${error.stack}\n`);
  }
  return EXIT.error;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  commands: readonly RegisterCommand[],
): Promise<number> {
  try {
    const program = buildProgram(io, commands);
    await program.parseAsync([...argv], { from: "user" });
    return exitCodeOf(program);
  } catch (error) {
    return reportError(error, io);
  }
}
