import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ResolvedPolicySet } from "../policyset/index.js";

/** What a companion (such as the background audit) may use of the running server. */
export interface CompanionContext {
  /** The current policy set; it changes when the config file is reloaded. */
  policies: () => ResolvedPolicySet;
  registry: Registry;
  logger: Logger;
}

export type Companion = (context: CompanionContext) => { stop(): Promise<void> };

export type RunningCompanion = ReturnType<Companion>;

/** Starts each companion, in order, with the same view of the server. */
export function startCompanions(
  companions: readonly Companion[],
  context: CompanionContext,
): RunningCompanion[] {
  return companions.map((start) => start(context));
}
