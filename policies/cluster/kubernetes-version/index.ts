import { z } from "zod";
import {
  type CheckOutcome,
  defineClusterCheck,
  type ServerVersion,
} from "../../../src/engine/index.js";

interface Minor {
  major: number;
  minor: number;
}

const MINOR = /^v?(\d+)\.(\d+)/;

function parseMinor(text: string): Minor | undefined {
  const match = MINOR.exec(text);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

function minorOf(version: ServerVersion): Minor | undefined {
  // Some providers report minor as "29+"; parseInt reads the digits before it.
  const major = Number.parseInt(version.major, 10);
  const minor = Number.parseInt(version.minor, 10);
  if (Number.isFinite(major) && Number.isFinite(minor)) return { major, minor };
  return parseMinor(version.gitVersion);
}

const parameters = z
  .object({
    /** The supported minor versions, as "1.34". */
    supported: z.array(z.string().regex(MINOR, 'must be a minor version such as "1.34"')).min(1),
  })
  .strict();

/** Newest and oldest of the supported versions, all of one major version. */
function windowOf(supported: readonly string[]): { newest: Minor; oldest: Minor } {
  const minors = supported.map((s) => parseMinor(s) as Minor).sort((a, b) => a.minor - b.minor);
  return { oldest: minors[0] as Minor, newest: minors.at(-1) as Minor };
}

/**
 * Passes a server on a supported minor version or a newer one, fails an
 * older one, naming the version to reach; `unknown` when the version is
 * unreadable or of another major version.
 */
export function judgeVersion(
  version: ServerVersion | undefined,
  supported: readonly string[],
): CheckOutcome {
  const parsed = version ? minorOf(version) : undefined;
  if (!version || !parsed) {
    return { status: "unknown", message: "the server version could not be read" };
  }
  const { newest, oldest } = windowOf(supported);
  const shown = version.gitVersion || `v${parsed.major}.${parsed.minor}`;
  const newestText = `${newest.major}.${newest.minor}`;
  if (parsed.major !== newest.major) {
    return { status: "unknown", message: `Kubernetes ${shown} has an unexpected major version` };
  }
  const behind = newest.minor - parsed.minor;
  if (parsed.minor >= oldest.minor) {
    return {
      status: "pass",
      message:
        behind <= 0
          ? `Kubernetes ${shown} is at or beyond ${newestText}, the newest supported version Tollgate knows of`
          : `Kubernetes ${shown} is ${behind} minor version${behind === 1 ? "" : "s"} behind ${newestText}, within the supported versions (${supported.join(", ")})`,
    };
  }
  return {
    status: "fail",
    message:
      `Kubernetes ${shown} is ${behind} minor versions behind ${newestText}, the newest supported version Tollgate knows of; ` +
      `AKS supports only ${supported.join(", ")}, so upgrade the control plane and node pools to ${oldest.major}.${oldest.minor} or later`,
  };
}

export default defineClusterCheck({
  id: "kubernetes-version",
  parameters: parameters.refine(
    ({ supported }) => new Set(supported.map((s) => parseMinor(s)?.major)).size === 1,
    { message: "must all be of one major version", path: ["supported"] },
  ),
  judge: (facts, { supported }) => [judgeVersion(facts.serverVersion, supported)],
});
