import type { Logger } from "pino";
import type { KubeObject } from "../engine/index.js";
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

/**
 * The Namespace object CEL policies see as `namespaceObject`, or undefined
 * when there is none to give (a cluster-scoped object, an unknown namespace,
 * a failed lookup). The directory keeps labels only, so the object carries
 * its name and labels; annotations, spec and status are not fetched.
 */
export type NamespaceObjectLookup = (
  namespace: string | undefined,
) => Promise<KubeObject | undefined>;

/** No namespace is known: `namespaceObject` is null. */
export const noNamespaceObjects: NamespaceObjectLookup = () => Promise.resolve(undefined);

/** Builds `namespaceObject` from the labels `directory` holds (cached, like the mode lookup). */
export function namespaceObjectLookup(
  directory: NamespaceDirectory,
  logger?: Logger,
): NamespaceObjectLookup {
  return async (namespace) => {
    if (!namespace) return undefined;
    try {
      const labels = await directory.labelsOf(namespace);
      if (labels === undefined) return undefined;
      return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace, labels: { ...labels } },
      };
    } catch (error) {
      logger?.warn(
        { namespace, error: (error as Error).message },
        "namespace lookup failed; CEL policies see namespaceObject null",
      );
      return undefined;
    }
  };
}
