import { Option } from "commander";
import type { CliIO } from "./context.js";

/** `--color`: `auto` colors only a terminal without NO_COLOR (what CliIO.color says). */
export const COLOR_CHOICES = ["auto", "always", "never"] as const;
export type ColorChoice = (typeof COLOR_CHOICES)[number];

export function colorFor(choice: ColorChoice, io: CliIO): boolean {
  return choice === "auto" ? io.color : choice === "always";
}

/** An option taking ids, comma-separated, repeatable: `--skip a,b --skip c`. */
export function listOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((value: string, previous: string[] = []) => [
    ...previous,
    ...value
      .split(",")
      .map((id) => id.trim())
      .filter((id) => id !== ""),
  ]);
}
