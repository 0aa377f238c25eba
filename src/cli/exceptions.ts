// `tollgate test --exceptions`: the PolicyExceptions a cluster would hold,
// read from files so CI judges manifests as the webhook will. Same semantics
// as the webhook's watch: a bad exception is reported and ignored, the others
// still apply.
import type { ExceptionSource } from "../engine/index.js";
import {
  exceptionLookup,
  indexExceptions,
  isPolicyException,
  type PolicyException,
  parseException,
} from "../exceptions/index.js";
import type { Settings } from "../policyset/index.js";
import type { CliIO } from "./context.js";
import { type InputProblem, readObjects } from "./inputs.js";

export interface LoadedExceptions {
  exceptions: PolicyException[];
  problems: InputProblem[];
}

/**
 * Every PolicyException in the files and directories given. A document that
 * is something else, or an exception that does not validate, is a problem
 * naming the file, document and field; `defaultNamespace` stands in for a
 * missing metadata.namespace, as `kubectl apply -n` would.
 */
export async function loadExceptions(
  paths: readonly string[],
  defaultNamespace: string | undefined,
  io: CliIO,
): Promise<LoadedExceptions> {
  if (paths.length === 0) return { exceptions: [], problems: [] };
  const found = await readObjects(paths, io);
  const problems: InputProblem[] = [...found.problems];
  const exceptions: PolicyException[] = [];
  for (const manifest of found.objects) {
    const where = { source: manifest.source, document: manifest.document };
    if (!isPolicyException(manifest.object)) {
      const kind = String(manifest.object.kind ?? "an object without kind");
      problems.push({
        ...where,
        message: `${kind} is not a PolicyException (tollgate.dev/v1alpha1); --exceptions reads exceptions only`,
      });
      continue;
    }
    const parsed = parseException(manifest.object, { defaultNamespace });
    if (parsed.ok) exceptions.push(parsed.exception);
    else {
      const { problem } = parsed;
      problems.push({
        ...where,
        message: `${problem.where}: ${problem.field}: ${problem.message}`,
      });
    }
  }
  return { exceptions, problems };
}

/** The engine's view of the loaded exceptions, judged against `now`. */
export function exceptionSourceOf(
  exceptions: readonly PolicyException[],
  settings: Settings,
  now: number,
): ExceptionSource | undefined {
  if (exceptions.length === 0) return undefined;
  return exceptionLookup(indexExceptions(exceptions), {
    now,
    mayHold: settings.mayHoldExceptions,
  });
}
