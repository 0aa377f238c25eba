import type { Command } from "commander";
import { EXIT } from "./errors.js";

/**
 * Everything a command reads from or writes to the outside world apart from
 * files, so that tests can run commands in-process and capture their output.
 */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard input as text chunks; read at most once per run. */
  stdin: () => AsyncIterable<string>;
  /** Whether output meant for people may use ANSI colors. */
  color: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** The real process: colors only when stdout is a terminal and NO_COLOR is unset. */
export function processIO(): CliIO {
  const env = process.env;
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    stdin: () => process.stdin.setEncoding("utf8") as AsyncIterable<string>,
    color: process.stdout.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb",
    env,
  };
}

interface RunState {
  io: CliIO;
  exitCode: number;
}

const states = new WeakMap<Command, RunState>();

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/** Attaches the I/O of one run to a program; called once by `buildProgram`. */
export function attachIO(program: Command, io: CliIO): void {
  states.set(program, { io, exitCode: EXIT.ok });
}

function stateOf(command: Command): RunState {
  const state = states.get(rootOf(command));
  if (!state) throw new Error("command is not part of a program built by buildProgram");
  return state;
}

/** The I/O a command's action must use instead of `process`. */
export function ioOf(command: Command): CliIO {
  return stateOf(command).io;
}

/**
 * Records the exit code of the run. The process exits with it once all output
 * is flushed; commands never call `process.exit` themselves.
 */
export function setExitCode(command: Command, code: number): void {
  stateOf(command).exitCode = code;
}

export function exitCodeOf(program: Command): number {
  return stateOf(program).exitCode;
}
