import { writeFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { type Command, Option } from "commander";
import { createTwoFilesPatch } from "diff";
import { loadPolicies } from "../../policyset/index.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT, UsageError } from "../errors.js";
import { fixText } from "../fixer.js";
import {
  type InputProblem,
  openInputs,
  readProblem,
  readText,
  reportProblems,
  STDIN,
} from "../inputs.js";
import { resourceLabel } from "../resources.js";

export interface FixCommandOptions {
  inputs: readonly string[];
  config?: string | undefined;
  namespace?: string | undefined;
  /**
   * `write` rewrites files in place; `stdout` prints the result (the
   * default); `diff` prints a unified diff of each changed file; `none`
   * prints nothing (for --check alone).
   */
  output: "write" | "stdout" | "diff" | "none";
  /** Exit 1 when any file would change (CI gate); nothing is written. */
  check?: boolean;
  /** Skip documents without apiVersion or kind with a notice instead of an error. */
  ignoreUnknown?: boolean | undefined;
}

/** A unified diff of one file; relative names get the `a/` and `b/` prefixes of git. */
export function unifiedDiff(name: string, before: string, after: string): string {
  const [from, to] = isAbsolute(name) ? [name, name] : [`a/${name}`, `b/${name}`];
  return createTwoFilesPatch(from, to, before, after, undefined, undefined, {
    context: 3,
  })
    .replace(/^(?:Index: .*\n)?=+\n/, "")
    .replace(/\n?$/, "\n");
}

/**
 * What goes between two fixed files printed as one YAML stream: a line
 * break if the first lacks one, and `---` unless the second starts with it.
 */
function separator(before: string, next: string): string {
  return `${before.endsWith("\n") ? "" : "\n"}${next.trimStart().startsWith("---") ? "" : "---\n"}`;
}

/**
 * Applies the webhook's mutations to manifests, keeping their formatting.
 * Returns 0 on success (changed or not) and 2 when an input could not be
 * used; every other input is still fixed.
 */
export async function runFix(options: FixCommandOptions, io: CliIO): Promise<number> {
  if (options.output === "write" && options.inputs.includes(STDIN)) {
    throw new UsageError("--write cannot rewrite stdin; use --stdout (the default) with -");
  }
  const { set } = loadPolicies(options.config);
  const opened = await openInputs(options.inputs, io);
  const problems: InputProblem[] = [...opened.problems];
  let printed: string | undefined;
  let changed = 0;

  try {
    for (const file of opened.files) {
      let text: string;
      try {
        text = readText(file);
      } catch (error) {
        problems.push(readProblem(file, error));
        continue;
      }
      const fixed = fixText(text, file.name, { set, namespace: options.namespace });
      problems.push(...fixed.problems);
      for (const p of fixed.patched) {
        const item = p.item === undefined ? "" : ` items[${p.item}]`;
        io.stderr(
          `${file.name}: document ${p.document}${item}: patched ${resourceLabel(p.resource)} (${p.mutatedBy.join(", ")})\n`,
        );
      }
      if (fixed.changed) changed++;
      if (options.output === "stdout") {
        // Several files are one YAML stream (JSON is YAML, so that holds for JSON too).
        if (printed !== undefined) io.stdout(separator(printed, fixed.text));
        io.stdout(fixed.text);
        printed = fixed.text.slice(-1);
      } else if (options.output === "diff") {
        if (fixed.changed) io.stdout(unifiedDiff(file.name, text, fixed.text));
      } else if (options.output === "write" && fixed.changed && file.own) {
        try {
          writeFileSync(file.path, fixed.text, "utf8");
          io.stderr(`wrote ${file.name}\n`);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? "error";
          problems.push({ source: file.name, message: `cannot write the fixed file (${code})` });
          changed--;
        }
      }
    }
  } finally {
    opened.close();
  }
  const counted = reportProblems(problems, io, { ignoreUnknown: options.ignoreUnknown === true });
  const total = opened.files.length;
  const files = `${total} file${total === 1 ? "" : "s"}`;
  const summary = {
    write: "rewritten",
    stdout: "changed (result on stdout)",
    diff: "changed (diff on stdout)",
    none: "would change",
  }[options.output];
  io.stderr(`${changed} of ${files} ${summary}\n`);
  if (counted.length > 0) return EXIT.error;
  return options.check && changed > 0 ? EXIT.denied : EXIT.ok;
}

interface FixFlags {
  config?: string;
  namespace?: string | undefined;
  write?: boolean;
  stdout?: boolean;
  diff?: boolean;
  check?: boolean;
  ignoreUnknown?: boolean;
}

function outputOf(flags: FixFlags): FixCommandOptions["output"] {
  if (flags.write) return "write";
  if (flags.diff) return "diff";
  if (flags.check && !flags.stdout) return "none";
  return "stdout";
}

export function register(program: Command): void {
  program
    .command("fix")
    .description(
      "apply the webhook's mutations to manifests, keeping comments, key order and formatting",
    )
    .argument("<inputs...>", "manifest files, directories (searched recursively) or - for stdin")
    .option("-c, --config <file>", "PolicySet file to apply over the shipped policies")
    .option(
      "-n, --namespace <namespace>",
      "namespace for namespaced objects that set none, as kubectl apply -n would (default: none)",
    )
    .addOption(
      new Option("-w, --write", "rewrite changed files in place").conflicts([
        "stdout",
        "diff",
        "check",
      ]),
    )
    .addOption(new Option("--stdout", "print the fixed manifests to stdout (the default)"))
    .addOption(
      new Option("--diff", "print a unified diff of each changed file instead").conflicts("stdout"),
    )
    .addOption(
      new Option(
        "--check",
        "write nothing and exit 1 when a file would change (add --diff to see how)",
      ),
    )
    .option(
      "--ignore-unknown",
      "skip documents without apiVersion or kind with a notice instead of an input error",
    )
    .addHelpText(
      "after",
      "\nFiles are only rewritten with --write. Exit codes: 0 done, 1 a change is needed (--check), 2 usage or input error.",
    )
    .action(async (inputs: string[], flags: FixFlags, command: Command) => {
      const code = await runFix(
        {
          inputs,
          config: flags.config,
          namespace: flags.namespace,
          output: outputOf(flags),
          check: flags.check === true,
          ignoreUnknown: flags.ignoreUnknown === true,
        },
        ioOf(command),
      );
      setExitCode(command, code);
    });
}
