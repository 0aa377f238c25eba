import { type Command, Option } from "commander";
import { stringify } from "yaml";
import type { LoadedPolicy, ResolvedPolicySet } from "../../policyset/index.js";
import { type CliIO, ioOf, setExitCode } from "../context.js";
import { EXIT } from "../errors.js";
import { loadPolicies } from "../policies.js";

export const FORMATS = ["table", "yaml"] as const;
export type Format = (typeof FORMATS)[number];

function actionOf({ declaration }: LoadedPolicy): string {
  if (!declaration.enabled) return "off";
  return declaration.type === "mutate" ? "mutate" : declaration.action;
}

function formatTable(resolved: ResolvedPolicySet): string {
  const rows = resolved.policies.map((p) => [
    p.declaration.id,
    actionOf(p),
    p.declaration.severity,
    `${p.declaration.checklist.section} / ${p.declaration.checklist.item}`,
  ]);
  const header = ["POLICY", "ACTION", "SEVERITY", "CHECKLIST ITEM"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  const { settings } = resolved;
  return [
    line(header),
    ...rows.map(line),
    "",
    `${rows.length} policies from ${resolved.source}; default mode ${settings.defaultMode}, ` +
      `mode label ${settings.modeLabel}, always exempt: ${settings.exemptNamespaces.join(", ")}`,
    "",
  ].join("\n");
}

/**
 * The effective policy set as a PolicySet file that can be edited and passed
 * back with --config: every policy with its action, switch and parameters.
 */
function formatYaml(resolved: ResolvedPolicySet): string {
  const { settings } = resolved;
  const policies: Record<string, unknown> = {};
  for (const { declaration } of resolved.policies) {
    policies[declaration.id] = {
      enabled: declaration.enabled,
      ...(declaration.type === "validate" ? { action: declaration.action } : {}),
      ...(Object.keys(declaration.parameters as object).length > 0
        ? { parameters: declaration.parameters }
        : {}),
    };
  }
  const file = {
    apiVersion: "tollgate.dev/v1alpha1",
    kind: "PolicySet",
    defaultMode: settings.defaultMode,
    modeLabel: settings.modeLabel,
    tollgateNamespace: settings.tollgateNamespace,
    policies,
  };
  return `# Effective Tollgate policy set (from ${resolved.source}).\n${stringify(file)}`;
}

export function runPolicies(options: { config?: string | undefined; format: Format }, io: CliIO) {
  const resolved = loadPolicies(options.config);
  io.stdout(options.format === "yaml" ? formatYaml(resolved) : formatTable(resolved));
  return EXIT.ok;
}

export function register(program: Command): void {
  program
    .command("policies")
    .description("list the effective policy set, or print it as an editable PolicySet file")
    .option("-c, --config <file>", "PolicySet file to apply over the shipped policies")
    .addOption(
      new Option("-o, --format <format>", "table, or yaml for a complete PolicySet file")
        .choices(FORMATS)
        .default("table"),
    )
    .action((flags: { config?: string; format: Format }, command: Command) => {
      setExitCode(command, runPolicies(flags, ioOf(command)));
    });
}
