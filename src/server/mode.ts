import type { Logger } from "pino";
import {
  type ModeSettings,
  type NamespaceDirectory,
  type NamespaceMode,
  resolveMode,
} from "./namespace-mode.js";

/**
 * The mode a namespace runs in when the request did not say (no `?mode=`).
 * Never rejects: when the namespace cannot be looked up it is the default.
 */
export type ModeResolver = (
  namespace: string | undefined,
  settings: ModeSettings,
) => NamespaceMode | Promise<NamespaceMode>;

/** Every namespace runs in the policy set's default mode. */
export const defaultModeOnly: ModeResolver = (_namespace, settings) => settings.defaultMode;

/** Reads each namespace's mode label from `directory`, falling back to the default mode. */
export function labelModeResolver(directory: NamespaceDirectory, logger?: Logger): ModeResolver {
  return async (namespace, settings) => {
    // Cluster-scoped objects have no namespace to read a label from.
    if (!namespace) return settings.defaultMode;
    try {
      return resolveMode(await directory.labelsOf(namespace), settings);
    } catch (error) {
      logger?.warn(
        { namespace, error: (error as Error).message },
        "namespace lookup failed; using the default mode",
      );
      return settings.defaultMode;
    }
  };
}
