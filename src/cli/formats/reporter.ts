import type { LoadedPolicy } from "../../policyset/index.js";
import type { InputProblem } from "../inputs.js";
import type { ResourceResult, Summary } from "../report.js";

/**
 * One output format of `tollgate test`. Results arrive one at a time, in
 * input order, and are written as they come: a format keeps counts, never
 * the results, so memory stays flat however many objects there are.
 */
export interface Reporter {
  add(result: ResourceResult): void;
  /**
   * After the last result: the input problems that count (stderr has them
   * too) and the totals. Formats with a document structure close it here,
   * so stdout is a complete document even when inputs could not be read.
   * `failure` is the error that stopped the run early, if one did.
   */
  end(problems: readonly InputProblem[], summary: Summary, failure?: string): void;
}

export interface ReporterContext {
  write: (text: string) => void;
  color: boolean;
  /** Leave out objects with nothing to report (table and JUnit). */
  quiet: boolean;
  /** Every policy of the set, enabled or not: the rules of SARIF. */
  policies: readonly LoadedPolicy[];
  version: string;
}
