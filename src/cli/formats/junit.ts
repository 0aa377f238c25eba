import builderModule, { type Builder, type TestSuite } from "junit-report-builder";
import { denialText, warningText } from "../../vap/index.js";
import { formatProblem } from "../inputs.js";
import { isAllowed, isWarned, type ResourceResult } from "../report.js";
import { resourceLabel } from "../resources.js";
import type { Reporter, ReporterContext } from "./reporter.js";

// The package is CommonJS whose module.exports is a builder, while its types
// describe an ES module with a default export; at run time the import is the builder.
const junit = builderModule as unknown as Builder;

function findingLines(result: ResourceResult, action: "deny" | "warn"): string[] {
  const lines = result.verdict.violations
    .filter((v) => v.action === action)
    .map((v) => `${v.policy}: ${v.message} (at ${v.path})`);
  const vapAction = action === "deny" ? "Deny" : "Warn";
  for (const d of result.admissionPolicies ?? []) {
    if (d.actions.includes(vapAction)) {
      lines.push(`vap/${d.policy}: ${action === "deny" ? denialText(d) : warningText(d)}`);
    }
  }
  return lines;
}

/**
 * JUnit XML for CI test tabs: a test suite per input file and a test case
 * per object, failed when the object would be denied; warnings go to the
 * case's output, objects no policy applies to are skipped, and input
 * problems are errors of their file's suite. Unlike the other formats it
 * writes the whole document at the end, since suites open with their counts.
 */
export function junitReporter(context: ReporterContext): Reporter {
  const builder = junit.newBuilder().name("tollgate");
  const suites = new Map<string, TestSuite>();
  const suiteOf = (file: string): TestSuite => {
    const known = suites.get(file);
    if (known) return known;
    const suite = builder.testSuite().name(file);
    suites.set(file, suite);
    return suite;
  };
  return {
    add(result) {
      const suite = suiteOf(result.source.file);
      const denied = !isAllowed(result);
      if (context.quiet && !denied && !isWarned(result)) return;
      const item = result.source.item === undefined ? "" : ` items[${result.source.item}]`;
      const testCase = suite
        .testCase()
        .className(result.source.file)
        .name(`${resourceLabel(result.resource)} (document ${result.source.document}${item})`)
        .file(result.source.file);
      if (denied) {
        const lines = findingLines(result, "deny");
        testCase.failure(lines.join("\n"), "deny");
      } else if (result.verdict.evaluated.length === 0 && !result.admissionPolicies?.length) {
        testCase.skipped();
      }
      const warnings = findingLines(result, "warn");
      if (warnings.length > 0) testCase.standardOutput(warnings.join("\n"));
    },
    end(problems, _summary, failure) {
      for (const problem of problems) {
        suiteOf(problem.source)
          .testCase()
          .className(problem.source)
          .name(problem.document === undefined ? "read" : `document ${problem.document}`)
          .error(formatProblem(problem), "input");
      }
      if (failure !== undefined) {
        suiteOf("tollgate").testCase().name("run").error(failure, "fatal");
      }
      context.write(`${builder.build()}\n`);
    },
  };
}
