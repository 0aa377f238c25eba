import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { type ManifestObject, parseManifests } from "../manifests/read.js";
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

/** One input read into memory. */
export interface InputFile {
  /** As shown to the user: the path as given or found, or `<stdin>`. */
  name: string;
  /** The file to rewrite; undefined for stdin. */
  path: string | undefined;
  text: string;
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

/** Reads every input; unreadable ones become problems naming the file. */
export async function readInputs(
  args: readonly string[],
  io: CliIO,
): Promise<{ files: InputFile[]; problems: InputProblem[] }> {
  const { paths, problems } = expandArguments(args);
  const files: InputFile[] = [];
  for (const path of paths) {
    if (path === STDIN) {
      files.push({ name: STDIN_NAME, path: undefined, text: await io.readStdin() });
      continue;
    }
    try {
      files.push({ name: path, path, text: readFileSync(path, "utf8") });
    } catch (error) {
      problems.push({ source: path, message: describeFsError(error) });
    }
  }
  return { files, problems };
}

/**
 * Every object of the inputs, `List`s flattened, in input order. Documents
 * that are not Kubernetes objects (bad YAML, no kind or apiVersion, not a
 * mapping) become problems; empty documents are skipped silently, as kubectl does.
 */
export function manifestsOf(files: readonly InputFile[]): {
  objects: SourcedObject[];
  problems: InputProblem[];
} {
  const objects: SourcedObject[] = [];
  const problems: InputProblem[] = [];
  for (const file of files) {
    const parsed = parseManifests(file.text, file.name);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  return { objects, problems };
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
