import { MODES } from "../engine/index.js";

/**
 * How the webhook treats one namespace: one of the engine's modes, or `off`,
 * which admits everything without evaluating anything.
 */
export const NAMESPACE_MODES = [...MODES, "off"] as const;
export type NamespaceMode = (typeof NAMESPACE_MODES)[number];

/** The part of the policy set's settings that decides a namespace's mode. */
export interface ModeSettings {
  /** Mode of namespaces without a (valid) mode label. */
  defaultMode: NamespaceMode;
  /** Label on the Namespace object that selects its mode, e.g. `tollgate.dev/mode`. */
  modeLabel: string;
}

export type NamespaceLabels = Readonly<Record<string, string>>;

/**
 * Where namespace labels come from. The webhook asks it when the request does
 * not carry a mode of its own. Implementations must answer quickly: they may
 * serve cached labels, and answer `undefined` when the namespace is unknown.
 * A rejection means "could not find out"; callers fall back to the default.
 */
export interface NamespaceDirectory {
  labelsOf(namespace: string): Promise<NamespaceLabels | undefined>;
  close(): void;
}

/** A directory that knows no namespace: every one gets the default mode. */
export const NO_NAMESPACES: NamespaceDirectory = {
  labelsOf: () => Promise.resolve(undefined),
  close: () => {},
};

const KNOWN = new Set<string>(NAMESPACE_MODES);

/** `enforce`, `warn`, `audit` or `off`; anything else is not a mode. */
export function parseNamespaceMode(value: unknown): NamespaceMode | undefined {
  return typeof value === "string" && KNOWN.has(value) ? (value as NamespaceMode) : undefined;
}

/**
 * The mode a namespace with these labels runs in. A missing namespace, a
 * missing label and a label with an unknown value all mean the default mode.
 */
export function resolveMode(
  labels: NamespaceLabels | undefined,
  settings: ModeSettings,
): NamespaceMode {
  return parseNamespaceMode(labels?.[settings.modeLabel]) ?? settings.defaultMode;
}
