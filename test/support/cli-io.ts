import type { CliIO } from "../../src/cli/context.js";

/** A CliIO that keeps everything written to it as two strings. */
export function stringIO(): CliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
    stdin: async function* () {},
    color: false,
    env: {},
  };
  return io;
}
