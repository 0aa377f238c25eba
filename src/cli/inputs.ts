import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ManifestObject, readPiece } from "../manifests/read.js";
import { splitStream } from "../manifests/split.js";
import type { CliIO } from "./context.js";
import { UsageError } from "./errors.js";

/** The argument that stands for standard input. */
export const STDIN = "-";
/** How standard input is named in reports and messages. */
export const STDIN_NAME = "<stdin>";

/** File name endings picked up when a directory is given. */
export const MANIFEST_EXTENSIONS: readonly string[] = [".yaml", ".yml", ".json"];

/** Something in the inputs that cannot be used, with where it is. */
export interface InputProblem {
  source: string;
  /** 1-based document index; absent for problems with the whole file. */
  document?: number | undefined;
  line?: number | undefined;
  message: string;
  /** Not a Kubernetes object (no kind or apiVersion); --ignore-unknown skips it. */
  unknown?: boolean | undefined;
}

/** One input to read: a file, or standard input spooled to a temporary file. */
export interface InputFile {
  /** As shown to the user: the path as given or found, or `<stdin>`. */
  name: string;
  /** The file to read. */
  path: string;
  /** The user's own file, which `fix --write` may rewrite; false for stdin. */
  own: boolean;
}

/** An object to evaluate, with where it came from. */
export type SourcedObject = ManifestObject;

/** `file: document 2 (line 14): invalid YAML: …` */
export function formatProblem(problem: InputProblem): string {
  let where = problem.source;
  if (problem.document !== undefined) {
    where += `: document ${problem.document}`;
    if (problem.line !== undefined) where += ` (line ${problem.line})`;
  }
  // The YAML parser's first message line ends with ":" before a code excerpt.
  return `${where}: ${problem.message.replace(/:\s*$/, "")}`;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

function describeFsError(error: unknown): string {
  const code = errorCode(error);
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`;
  return `cannot read (${code})`;
}

/** Hidden folders and node_modules are never manifests we want. */
function skipped(relative: string): boolean {
  return relative.split(sep).some((part) => part.startsWith(".") || part === "node_modules");
}

/**
 * The manifests below a directory, sorted by path. Symbolic links are
 * followed, but each real folder is entered once and each real file listed
 * once, so a link back up the tree (`me -> .`) cannot loop.
 */
function manifestsIn(directory: string, seenFiles: Set<string>): string[] {
  const found: string[] = [];
  const seenDirs = new Set<string>();
  const walk = (dir: string, relative: string) => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const names = readdirSync(dir).sort();
    for (const name of names) {
      const rel = relative === "" ? name : join(relative, name);
      if (skipped(rel)) continue;
      const path = join(dir, name);
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(path);
      } catch {
        continue; // a dangling link
      }
      if (stats.isDirectory()) {
        walk(path, rel);
      } else if (stats.isFile() && MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase())) {
        const key = realpathSync(path);
        if (seenFiles.has(key)) continue;
        seenFiles.add(key);
        found.push(path);
      }
    }
  };
  walk(directory, "");
  return found.sort();
}

/**
 * Turns arguments into the list of files to read, in argument order; a
 * directory contributes its manifests recursively, sorted by path. Paths
 * that cannot be used become problems so the rest can still be read.
 */
export function expandArguments(args: readonly string[]): {
  paths: string[];
  problems: InputProblem[];
} {
  if (args.length === 0) {
    throw new UsageError("no manifests given: pass files, directories or - for stdin");
  }
  if (args.filter((arg) => arg === STDIN).length > 1) {
    throw new UsageError("- (stdin) can be given only once");
  }
  const paths: string[] = [];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  const realKey = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const add = (path: string) => {
    const key = path === STDIN ? STDIN : realKey(path);
    if (seen.has(key)) return;
    seen.add(key);
    paths.push(path);
  };
  for (const arg of args) {
    if (arg === STDIN) {
      add(arg);
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = statSync(arg).isDirectory();
    } catch (error) {
      problems.push({ source: arg, message: describeFsError(error) });
      continue;
    }
    if (!isDirectory) {
      add(arg);
      continue;
    }
    let found: string[];
    try {
      found = manifestsIn(arg, new Set());
    } catch (error) {
      problems.push({ source: arg, message: describeFsError(error) });
      continue;
    }
    if (found.length === 0) {
      problems.push({
        source: arg,
        message: `no ${MANIFEST_EXTENSIONS.map((e) => `*${e}`).join(", ")} files in this directory`,
      });
    }
    for (const file of found) add(file);
  }
  return { paths, problems };
}

export interface OpenedInputs {
  files: InputFile[];
  problems: InputProblem[];
  /** Removes the spooled copy of standard input; call when done. */
  close(): void;
}

/**
 * The files to read, in argument order. Standard input is copied to a
 * temporary file as it arrives, so that it is read like any file: one
 * document at a time, and more than once when admission policies among the
 * inputs must be found first. Missing paths become problems.
 */
export async function openInputs(args: readonly string[], io: CliIO): Promise<OpenedInputs> {
  const { paths, problems } = expandArguments(args);
  let spool: string | undefined;
  const close = () => {
    if (spool) rmSync(spool, { recursive: true, force: true });
  };
  const files: InputFile[] = [];
  try {
    for (const path of paths) {
      if (path !== STDIN) {
        files.push({ name: path, path, own: true });
        continue;
      }
      spool = mkdtempSync(join(tmpdir(), "tollgate-stdin-"));
      const copy = join(spool, "stdin.yaml");
      await pipeline(Readable.from(io.stdin()), createWriteStream(copy));
      files.push({ name: STDIN_NAME, path: copy, own: false });
    }
  } catch (error) {
    close();
    throw error;
  }
  return { files, problems, close };
}

/** The whole text of one input, for `fix`, which rewrites files whole. */
export function readText(file: InputFile): string {
  return readFileSync(file.path, "utf8");
}

/** An unreadable input as a problem; anything that is not a file system error is rethrown. */
export function readProblem(file: InputFile, error: unknown): InputProblem {
  if (typeof (error as NodeJS.ErrnoException)?.code !== "string") throw error;
  return { source: file.name, message: describeFsError(error) };
}

/**
 * The objects of one input as its documents stream past, `List`s opened;
 * memory holds one document at a time. Problems (bad YAML, no kind, an
 * unreadable file) are added to `problems`, and the rest is still read.
 */
export async function* objectsIn(
  file: InputFile,
  problems: InputProblem[],
  chunks: AsyncIterable<string> & { destroy?: () => void } = fileChunks(file.path),
): AsyncGenerator<SourcedObject> {
  try {
    for await (const piece of splitStream(chunks)) {
      const read = readPiece(piece, file.name);
      problems.push(...read.problems);
      yield* read.objects;
      if (read.stop) return;
    }
  } catch (error) {
    problems.push(readProblem(file, error));
  } finally {
    chunks.destroy?.();
  }
}

/** A file's text in chunks of 1 MiB. */
function fileChunks(path: string): AsyncIterable<string> & { destroy: () => void } {
  return createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 }) as ReturnType<
    typeof createReadStream
  > &
    AsyncIterable<string>;
}

/**
 * Every object of a few side inputs (`--policies`, `--exceptions`), held in
 * memory: they configure the run, unlike the manifests it checks.
 */
export async function readObjects(
  args: readonly string[],
  io: CliIO,
): Promise<{ objects: SourcedObject[]; problems: InputProblem[] }> {
  const opened = await openInputs(args, io);
  const problems = [...opened.problems];
  const objects: SourcedObject[] = [];
  try {
    for (const file of opened.files) {
      for await (const object of objectsIn(file, problems)) objects.push(object);
    }
  } finally {
    opened.close();
  }
  return { objects, problems };
}

/**
 * Whether the input's text contains `needle`: a quick scan that lets most
 * runs skip reading the inputs twice.
 */
export async function mentions(file: InputFile, needle: string): Promise<boolean> {
  const stream = createReadStream(file.path, { encoding: "utf8", highWaterMark: 1 << 20 });
  let tail = "";
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      // The end of the previous chunk, in case the needle spans two.
      if ((tail + chunk).includes(needle)) return true;
      tail = chunk.slice(-needle.length);
    }
  } catch {
    // Unreadable: the main pass reports it.
  } finally {
    stream.destroy();
  }
  return false;
}

/**
 * Prints every input problem on stderr and returns those that count. With
 * `ignoreUnknown`, documents that are not Kubernetes objects (no kind or
 * apiVersion) are only noticed (not even that with `quiet`), and do not
 * make the exit code 2.
 */
export function reportProblems(
  problems: readonly InputProblem[],
  io: CliIO,
  options: { ignoreUnknown: boolean; quiet?: boolean },
): InputProblem[] {
  const counted: InputProblem[] = [];
  for (const problem of problems) {
    if (options.ignoreUnknown && problem.unknown) {
      if (options.quiet) continue;
      io.stderr(`tollgate: notice: ${formatProblem(problem)}; skipped (--ignore-unknown)\n`);
    } else {
      io.stderr(`tollgate: ${formatProblem(problem)}\n`);
      counted.push(problem);
    }
  }
  return counted;
}
