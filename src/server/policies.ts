import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { type FileWatch, watchFiles } from "../certificates/watch.js";
import {
  type LoadedPolicy,
  loadPolicies,
  PolicyLoadError,
  type ResolvedPolicySet,
  shippedPolicies,
} from "../policyset/index.js";

/** The policy set in force, which a watched config file can replace while serving. */
export interface LivePolicies {
  current: () => ResolvedPolicySet;
  /**
   * Watches the config file, when there is one, and swaps in each valid new
   * version; `onResult` hears of every reload attempt.
   */
  watch(logger: Logger, onResult: (ok: boolean) => void, debounceMs: number): FileWatch | undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function logReloadFailure(error: unknown, file: string, logger: Logger): void {
  if (error instanceof PolicyLoadError) {
    logger.error(
      { file: error.file, field: error.field || undefined, problem: error.problem },
      `policy set not reloaded, the previous one stays in force: ${error.message}`,
    );
  } else {
    logger.error(
      { file, error: (error as Error).message },
      "policy set not reloaded, the previous one stays in force",
    );
  }
}

/** Loads the changed file and swaps it in; an invalid file leaves the current set in force. */
function reloadPolicySet(
  file: string,
  declarations: readonly LoadedPolicy[],
  swap: (next: ResolvedPolicySet) => void,
  logger: Logger,
  onResult: (ok: boolean) => void,
): void {
  try {
    const next = loadPolicies(file, declarations);
    swap(next);
    onResult(true);
    logger.info(
      { file, policies: next.set.policies.length, defaultMode: next.settings.defaultMode },
      "policy set reloaded",
    );
  } catch (error) {
    onResult(false);
    logReloadFailure(error, file, logger);
  }
}

/** Watches the PolicySet file and swaps the policy set when a valid new one appears. */
function watchPolicySet(
  file: string,
  declarations: readonly LoadedPolicy[],
  swap: (next: ResolvedPolicySet) => void,
  logger: Logger,
  onResult: (ok: boolean) => void,
  debounceMs: number,
): FileWatch {
  let lastText = readText(file);
  return watchFiles(
    [file],
    () => {
      const text = readText(file);
      if (text === undefined || text === lastText) return;
      lastText = text;
      reloadPolicySet(file, declarations, swap, logger, onResult);
    },
    { debounceMs },
  );
}

/**
 * The webhook's policy set: loadPolicies at start (throwing PolicyLoadError,
 * with file and field, when unusable), then each valid new version of the
 * PolicySet file once watched.
 */
export function livePolicies(configFile: string | undefined): LivePolicies {
  const declarations = shippedPolicies();
  let policies = loadPolicies(configFile, declarations);
  const swap = (next: ResolvedPolicySet) => {
    policies = next;
  };
  return {
    current: () => policies,
    watch: (logger, onResult, debounceMs) =>
      configFile
        ? watchPolicySet(configFile, declarations, swap, logger, onResult, debounceMs)
        : undefined,
  };
}
