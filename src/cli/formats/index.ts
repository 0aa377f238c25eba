import { jsonReporter } from "../../render/test-json.js";
import { tableReporter } from "../../render/test-table.js";
import { junitReporter } from "./junit.js";
import type { Reporter, ReporterContext } from "./reporter.js";
import { sarifReporter } from "./sarif.js";

export type { Reporter, ReporterContext } from "./reporter.js";

/** The output formats of `tollgate test`, by `--format` name. */
export const REPORTERS = {
  table: tableReporter,
  json: jsonReporter,
  sarif: sarifReporter,
  junit: junitReporter,
} as const satisfies Record<string, (context: ReporterContext) => Reporter>;

export type Format = keyof typeof REPORTERS;
export const FORMATS = Object.keys(REPORTERS) as Format[];
