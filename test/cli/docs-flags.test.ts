// docs/cli.md and the README name every flag the commands have, and no flag
// they lack: read from the same commander program the executable builds.
import { readFileSync } from "node:fs";
import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { commandsFor } from "../../src/cli/main.js";
import { buildProgram } from "../../src/cli/program.js";
import { captureIO } from "./support.js";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const program = buildProgram(captureIO().io, await commandsFor([]));

function commandNamed(name: string): Command {
  const command = program.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  return command;
}

/** The options a user can give, without the help every command has. */
function optionsOf(command: Command): Option[] {
  return command.options.filter((o) => o.long !== "--help");
}

/** A Markdown table row's cells (`\|` is a pipe inside a cell). */
function cells(row: string): string[] {
  return row.split(/(?<!\\)\|/);
}

/** The long flags written in a piece of Markdown, in order. */
function longFlagsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]);
}

/** The section of docs/cli.md about one command, up to the next `## ` heading. */
function cliSection(name: string): string {
  const text = read("docs/cli.md");
  const start = text.indexOf(`\n## \`tollgate ${name}\`\n`);
  expect(start, `docs/cli.md has a section for tollgate ${name}`).toBeGreaterThan(0);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The rows of a section's flag table, by their first cell. */
function flagRows(section: string): Map<string, { flags: string; row: string }> {
  const rows = new Map<string, { flags: string; row: string }>();
  for (const row of section.split("\n").filter((line) => line.startsWith("| `-"))) {
    const flags = cells(row)[1] ?? "";
    const [long] = longFlagsIn(flags);
    if (long) rows.set(long, { flags, row });
  }
  return rows;
}

describe("docs/cli.md describes every flag of test and fix", () => {
  it.each(["test", "fix"])("tollgate %s: the usage line and the table", (name) => {
    const command = commandNamed(name);
    const section = cliSection(name);
    const rows = flagRows(section);
    const options = optionsOf(command);
    expect([...rows.keys()].sort()).toEqual([...options.map((o) => o.long), "--help"].sort());

    // The usage line names each option, by its short flag where it has one.
    const usage = /```\n(tollgate [^`]*)```/.exec(section)?.[1] ?? "";
    const named = (flag = "") => new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(usage);
    for (const option of options) {
      expect(named(option.long) || named(option.short), option.long).toBe(true);
    }
    expect(
      longFlagsIn(usage).filter((flag) => !command.options.some((o) => o.long === flag)),
    ).toEqual([]);

    for (const option of options) {
      const { flags, row } = rows.get(option.long ?? "") ?? { flags: "", row: "" };
      if (option.short) expect(flags, option.long).toContain(`${option.short}, ${option.long}`);
      else expect(flags, option.long).not.toMatch(/`-[a-z],/);
      // A flag that takes a value is shown with one, a switch without.
      expect(flags.includes("<"), option.long).toBe(option.required || option.optional);
      for (const choice of option.argChoices ?? []) expect(row, option.long).toContain(choice);
      if (typeof option.defaultValue === "string") {
        expect(cells(row)[2], `${option.long} default`).toContain(option.defaultValue);
      }
    }
  });
});

describe("the README's table of commands", () => {
  it.each(program.commands.map((c) => c.name()))("lists exactly the flags of %s", (name) => {
    const row = read("README.md")
      .split("\n")
      .find((line) => line.startsWith(`| \`tollgate ${name}`));
    expect(row, `a row for tollgate ${name}`).toBeDefined();
    const listed = longFlagsIn(cells(row ?? "")[2] ?? "");
    const options = optionsOf(commandNamed(name));
    expect(new Set(listed)).toEqual(new Set(options.map((o) => o.long)));
    for (const option of options.filter((o) => o.short)) {
      expect(row, option.long).toContain(`${option.short}, ${option.long}`);
    }
  });
});
