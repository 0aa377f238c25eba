import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMAND_MODULES, commandsFor } from "../../src/cli/main.js";

/** The names of the commands `register` functions add to a fresh program. */
function namesOf(registers: Awaited<ReturnType<typeof commandsFor>>): string[] {
  const program = new Command("tollgate");
  for (const register of registers) register(program);
  return program.commands.map((c) => c.name());
}

describe("commandsFor", () => {
  it("loads only the command a command line names", async () => {
    expect(namesOf(await commandsFor(["serve", "--port", "8443"]))).toEqual(["serve"]);
    expect(namesOf(await commandsFor(["test", "deploy/"]))).toEqual(["test"]);
  });

  it("loads every command, in order, for help, the version and anything it does not name", async () => {
    const all = Object.keys(COMMAND_MODULES);
    expect(all).toEqual([...all].sort());
    for (const argv of [[], ["--help"], ["--version"], ["help", "serve"], ["srve"], ["toString"]]) {
      expect(namesOf(await commandsFor(argv))).toEqual(all);
    }
  });

  it("names each module by the command it registers", async () => {
    for (const name of Object.keys(COMMAND_MODULES)) {
      expect(namesOf(await commandsFor([name]))).toEqual([name]);
    }
  });
});
