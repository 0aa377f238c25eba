import { type Command, Option } from "commander";
import { evaluate } from "../../engine/index.js";
import {
  admissionPolicyDecisions,
  isVapObject,
  loadAdmissionPolicies,
} from "../admission-policies.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT } from "../errors.js";
import { manifestsOf, readInputs, reportProblems } from "../inputs.js";
import { loadPolicies } from "../policies.js";
import { formatJson, formatTable, isAllowed, type ResourceResult } from "../report.js";
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
  /** Directories (or files) of ValidatingAdmissionPolicies, Bindings and params to apply too. */
  policies?: readonly string[] | undefined;
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
  const vaps = await loadAdmissionPolicies(found.objects, options.policies ?? [], io);

  const evaluated = found.objects.filter((manifest) => !isVapObject(manifest.object));
  const results: ResourceResult[] = evaluated.map((manifest) => {
    const resource = resourceFor(manifest.object, options.namespace);
    const verdict = evaluate(admissionInputFor(manifest.object, options.namespace), set, {
      mode: "enforce",
      phase: "both",
    });
    return {
      resource,
      source: {
        file: manifest.source,
        document: manifest.document,
        item: manifest.item,
        template: manifest.template,
      },
      verdict,
      ...(vaps.set.bindings.length > 0
        ? {
            admissionPolicies: admissionPolicyDecisions(
              vaps.set,
              manifest.object,
              verdict,
              options.namespace,
            ),
          }
        : {}),
    };
  });

  const problems = reportProblems(
    [...read.problems, ...found.problems, ...vaps.problems],
    io,
    options.ignoreUnknown === true,
  );
  io.stdout(
    options.format === "json"
      ? formatJson(results)
      : formatTable(results, { color: io.color, inputProblems: problems.length }),
  );

  if (problems.length > 0) return EXIT.error;
  return results.some((r) => !isAllowed(r)) ? EXIT.denied : EXIT.ok;
}

interface TestFlags {
  config?: string;
  format: Format;
  namespace?: string | undefined;
  ignoreUnknown?: boolean;
  policies?: string[];
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
    .option(
      "--policies <path>",
      "ValidatingAdmissionPolicies, Bindings and params objects to apply as well (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
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
