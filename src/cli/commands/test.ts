import { type Command, Option } from "commander";
import { evaluate } from "../../engine/index.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT } from "../errors.js";
import { manifestsOf, readInputs, reportProblems } from "../inputs.js";
import { loadPolicies } from "../policies.js";
import { formatJson, formatTable, type ResourceResult } from "../report.js";
import { admissionInputFor, resourceFor } from "../resources.js";

export const FORMATS = ["table", "json"] as const;
export type Format = (typeof FORMATS)[number];

export interface TestOptions {
  inputs: readonly string[];
  config?: string | undefined;
  format: Format;
  /** Namespace assumed for namespaced objects that set none, as kubectl does. */
  namespace?: string | undefined;
  /** Skip documents without apiVersion or kind with a notice instead of an error. */
  ignoreUnknown?: boolean | undefined;
}

/**
 * Evaluates every object of the inputs exactly as the webhook would on
 * CREATE (mutations first, then validations on the mutated object) and
 * prints the report. Returns the exit code: 0 all admitted, 1 something
 * denied, 2 an input could not be used (the rest is still reported).
 */
export async function runTest(options: TestOptions, io: CliIO): Promise<number> {
  const { set } = loadPolicies(options.config);
  const read = await readInputs(options.inputs, io);
  const found = manifestsOf(read.files);

  const results: ResourceResult[] = found.objects.map((manifest) => ({
    resource: resourceFor(manifest.object, options.namespace),
    source: {
      file: manifest.source,
      document: manifest.document,
      item: manifest.item,
      template: manifest.template,
    },
    verdict: evaluate(admissionInputFor(manifest.object, options.namespace), set, {
      mode: "enforce",
      phase: "both",
    }),
  }));

  const problems = reportProblems(
    [...read.problems, ...found.problems],
    io,
    options.ignoreUnknown === true,
  );
  io.stdout(
    options.format === "json"
      ? formatJson(results)
      : formatTable(results, { color: io.color, inputProblems: problems.length }),
  );

  if (problems.length > 0) return EXIT.error;
  return results.some((r) => !r.verdict.allowed) ? EXIT.denied : EXIT.ok;
}

interface TestFlags {
  config?: string;
  format: Format;
  namespace?: string | undefined;
  ignoreUnknown?: boolean;
}

export function register(program: Command): void {
  program
    .command("test")
    .description(
      "evaluate manifests as the webhook would on CREATE and report violations and patches",
    )
    .argument("<inputs...>", "manifest files, directories (searched recursively) or - for stdin")
    .option("-c, --config <file>", "PolicySet file to apply over the shipped policies")
    .addOption(
      new Option("-o, --format <format>", "output format").choices(FORMATS).default("table"),
    )
    .option(
      "-n, --namespace <namespace>",
      "namespace for namespaced objects that set none, as kubectl apply -n would (default: none)",
    )
    .option(
      "--ignore-unknown",
      "skip documents without apiVersion or kind with a notice instead of an input error",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 all admitted, 1 something would be denied, 2 usage or input error.",
    )
    .action(async (inputs: string[], flags: TestFlags, command: Command) => {
      const code = await runTest({ inputs, ...flags }, ioOf(command));
      setExitCode(command, code);
    });
}
