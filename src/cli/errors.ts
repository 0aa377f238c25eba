import { CommanderError } from "commander";
import { PolicyLoadError } from "../policyset/index.js";

/** Exit codes shared by every command. */
export const EXIT = {
  /** Everything would be admitted, or the command did its job. */
  ok: 0,
  /** At least one object would be denied. */
  denied: 1,
  /** Bad usage, unreadable input or an unusable policy set. */
  error: 2,
} as const;

/** The command line itself is wrong: flags that conflict, a missing argument. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** An input the user named cannot be used: a missing file, unreadable stdin. */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** Errors whose message is already meant for the user: one line, no stack. */
export function isKnownError(error: unknown): error is Error {
  return (
    error instanceof UsageError || error instanceof InputError || error instanceof PolicyLoadError
  );
}

export function isCommanderError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}
