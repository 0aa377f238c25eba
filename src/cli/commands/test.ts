import { type Command, Option } from "commander";
import { evaluate, type KubeObject, SEVERITIES, type Severity } from "../../engine/index.js";
import { loadPolicies } from "../../policyset/index.js";
import { namespaceObjectAmong } from "../../vap/index.js";
import {
  admissionPolicyDecisions,
  isVapObject,
  loadAdmissionPolicies,
} from "../admission-policies.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT, isKnownError } from "../errors.js";
import { exceptionSourceOf, loadExceptions } from "../exceptions.js";
import { FORMATS, type Format, REPORTERS, type Reporter } from "../formats/index.js";
import {
  type InputFile,
  type InputProblem,
  mentions,
  objectsIn,
  openInputs,
  reportProblems,
} from "../inputs.js";
import { COLOR_CHOICES, type ColorChoice, colorFor, listOption } from "../options.js";
import { selectPolicies } from "../policies.js";
import { packageVersion } from "../program.js";
import { isAllowed, isWarned, type ResourceResult, Tally } from "../report.js";
import { admissionInputFor, resourceFor } from "../resources.js";
import { atOrAbove, FAIL_ON, type FailOn } from "../threshold.js";

export { FORMATS, type Format };

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
  /** Files or directories of PolicyExceptions to honour, as the webhook's watch would. */
  exceptions?: readonly string[] | undefined;
  /** `--policy`: only these policies run. */
  only?: readonly string[] | undefined;
  /** `--skip`: these policies never run. */
  skip?: readonly string[] | undefined;
  /** Violations below this severity are left out (of the report and the exit code). */
  minSeverity?: Severity | undefined;
  failOn?: FailOn | undefined;
  /** Leave out objects with nothing to report, and notices on stderr. */
  quiet?: boolean | undefined;
  color?: ColorChoice | undefined;
}

function failureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return isKnownError(error) ? message : `internal error: ${message}`;
}

/**
 * The Namespace objects of the inputs, found in an extra pass over the files
 * that mention one (the main pass streams; Namespaces are few). Problems are
 * the main pass's to report.
 */
async function namespacesIn(files: readonly InputFile[]): Promise<KubeObject[]> {
  const found: KubeObject[] = [];
  const ignored: InputProblem[] = [];
  for (const file of files) {
    if (!(await mentions(file, "Namespace"))) continue;
    for await (const { object } of objectsIn(file, ignored)) {
      if (object.apiVersion === "v1" && object.kind === "Namespace") found.push(object);
    }
  }
  return found;
}

/**
 * Evaluates every object of the inputs exactly as the webhook would on
 * CREATE (mutations first, then validations on the mutated object) and
 * prints the report. Returns the exit code: 0 all admitted, 1 something
 * denied (or warned, with --fail-on warn), 2 an input could not be used
 * (the rest is still reported). Whatever stops the run, the JSON, SARIF
 * and JUnit formats leave a complete document on stdout that names it.
 */
export async function runTest(options: TestOptions, io: CliIO): Promise<number> {
  const tally = new Tally();
  const context = {
    write: io.stdout,
    color: colorFor(options.color ?? "auto", io),
    quiet: options.quiet === true,
    version: packageVersion(),
  };
  let reporter: Reporter | undefined;
  let counted: InputProblem[] = [];
  let failOn = false;
  try {
    const resolved = selectPolicies(loadPolicies(options.config), {
      only: options.only ?? [],
      skip: options.skip ?? [],
    });
    reporter = REPORTERS[options.format]({ ...context, policies: resolved.policies });
    const opened = await openInputs(options.inputs, io);
    try {
      const problems = [...opened.problems];
      const vaps = await loadAdmissionPolicies(opened.files, options.policies ?? [], io);
      const held = await loadExceptions(options.exceptions ?? [], options.namespace, io);
      const exceptions = exceptionSourceOf(held.exceptions, resolved.settings, Date.now());
      problems.push(...vaps.problems, ...held.problems);
      // CEL policies see the Namespace objects among the inputs as namespaceObject.
      const withCel = resolved.policies.some((p) => p.cel !== undefined);
      const namespaces = withCel ? await namespacesIn(opened.files) : [];
      for (const file of opened.files) {
        for await (const manifest of objectsIn(file, problems)) {
          if (isVapObject(manifest.object)) continue;
          const input = admissionInputFor(manifest.object, options.namespace);
          if (withCel && input.namespace !== undefined) {
            input.namespaceObject = namespaceObjectAmong(namespaces, input.namespace);
          }
          const verdict = evaluate(input, resolved.set, {
            mode: "enforce",
            phase: "both",
            exceptions,
          });
          let result: ResourceResult = {
            resource: resourceFor(manifest.object, options.namespace),
            source: {
              file: manifest.source,
              document: manifest.document,
              item: manifest.item,
              template: manifest.template,
            },
            verdict,
            lineOf: manifest.lineOf,
            ...(vaps.set.bindings.length > 0
              ? {
                  admissionPolicies: admissionPolicyDecisions(
                    vaps.set,
                    input.object as KubeObject,
                    verdict,
                    options.namespace,
                  ),
                }
              : {}),
          };
          if (options.minSeverity) result = atOrAbove(result, options.minSeverity);
          tally.add(result);
          reporter.add(result);
          if (!isAllowed(result) || (options.failOn === "warn" && isWarned(result))) failOn = true;
        }
      }
      counted = reportProblems(problems, io, {
        ignoreUnknown: options.ignoreUnknown === true,
        quiet: options.quiet === true,
      });
    } finally {
      opened.close();
    }
  } catch (error) {
    if (options.format !== "table") {
      reporter ??= REPORTERS[options.format]({ ...context, policies: [] });
      reporter.end(counted, tally.summary, failureText(error));
    }
    throw error;
  }
  reporter.end(counted, tally.summary);
  if (counted.length > 0) return EXIT.error;
  return failOn ? EXIT.denied : EXIT.ok;
}

interface TestFlags {
  config?: string;
  format: Format;
  namespace?: string | undefined;
  ignoreUnknown?: boolean;
  policies?: string[];
  exceptions?: string[];
  policy?: string[];
  skip?: string[];
  minSeverity?: Severity;
  failOn?: FailOn;
  quiet?: boolean;
  color?: ColorChoice;
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
    .option(
      "--exceptions <path>",
      "PolicyException file or directory to honour, as the webhook's watch would (repeatable); a bad one is reported (exit 2) and the others still apply",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      listOption("--policy <ids>", "run only these policies (comma-separated or repeated)"),
    )
    .addOption(listOption("--skip <ids>", "never run these policies (comma-separated or repeated)"))
    .addOption(
      new Option(
        "--min-severity <severity>",
        "leave out violations below this severity (report, summary and exit code)",
      ).choices(SEVERITIES),
    )
    .addOption(
      new Option("--fail-on <action>", "exit 1 when an object is denied, or also when warned")
        .choices(FAIL_ON)
        .default("deny"),
    )
    .option("-q, --quiet", "list only denied and warned objects, and print no notices")
    .addOption(
      new Option("--color <when>", "color the table").choices(COLOR_CHOICES).default("auto"),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 all admitted, 1 something would be denied (or warned, with --fail-on warn), 2 usage or input error.",
    )
    .action(async (inputs: string[], flags: TestFlags, command: Command) => {
      const { policy, ...rest } = flags;
      const code = await runTest({ inputs, ...rest, only: policy }, ioOf(command));
      setExitCode(command, code);
    });
}
