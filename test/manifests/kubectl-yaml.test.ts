// Differential test: every document of the corpus must read the same in
// Tollgate as in kubectl. The reference is a small Go program built from
// k8s.io/apimachinery and sigs.k8s.io/yaml (test/manifests/yaml-oracle),
// compiled once into a cache outside the repository.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kubeValue } from "../../src/manifests/convert.js";
import { fastValue } from "../../src/manifests/fast.js";
import {
  documentValue,
  type ParsedManifests,
  parseManifests,
  parseYaml,
} from "../../src/manifests/read.js";
import { splitText } from "../../src/manifests/split.js";

const here = import.meta.dirname;
const corpus = join(here, "corpus");
const files = readdirSync(corpus).sort();

interface OracleResult {
  file: string;
  documents: unknown[];
  error?: string;
}

/** What Tollgate reads (fast reader first, as the CLI does): the non-empty documents' values, or the first error. */
function tollgateRead(text: string): { documents: unknown[]; error?: string } {
  const documents: unknown[] = [];
  for (const piece of splitText(text)) {
    if (piece.kind === "separator-error") return { documents, error: piece.message };
    const result: ParsedManifests = { objects: [], problems: [] };
    const value = documentValue(piece, "corpus", result);
    const [problem] = result.problems;
    if (problem) return { documents, error: problem.message };
    if (value !== null && value !== undefined) documents.push(value);
  }
  return { documents };
}

/** The full reader alone on one document, which the fast one must agree with wherever it answers. */
function fullRead(text: string): { value: unknown } | undefined {
  const [doc, extra] = parseYaml(text);
  if (!doc) return { value: null };
  if (extra || doc.errors.length > 0) return undefined;
  try {
    return { value: kubeValue(doc) };
  } catch {
    return undefined;
  }
}

let oracle: Map<string, OracleResult>;

beforeAll(() => {
  const binary = execFileSync(
    "bash",
    [join(here, "../support/go-tool.sh"), join(here, "yaml-oracle"), "yaml-oracle"],
    { encoding: "utf8", timeout: 300_000, stdio: ["ignore", "pipe", "inherit"] },
  ).trim();
  const output = execFileSync(binary, files, { cwd: corpus, encoding: "utf8", timeout: 30_000 });
  oracle = new Map((JSON.parse(output) as OracleResult[]).map((r) => [r.file, r]));
}, 320_000);

describe("YAML reads as kubectl reads it (sigs.k8s.io/yaml)", () => {
  it("has a corpus with valid and invalid documents", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect([...oracle.values()].filter((r) => r.error).length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)("%s gives the same JSON, or fails in both", (file) => {
    const expected = oracle.get(file);
    expect(expected, `the oracle read ${file}`).toBeDefined();
    const actual = tollgateRead(readFileSync(join(corpus, file), "utf8"));
    if (expected?.error) {
      expect(actual.error, `kubectl fails with: ${expected.error}`).toBeDefined();
    } else {
      expect(actual.error).toBeUndefined();
      // Through JSON, as the API server receives it.
      expect(JSON.parse(JSON.stringify(actual.documents))).toEqual(expected?.documents);
    }
  });

  it("the fast reader answers for plain documents and agrees with the full reader", () => {
    let answered = 0;
    for (const file of files) {
      const text = readFileSync(join(corpus, file), "utf8");
      for (const piece of splitText(text)) {
        if (piece.kind !== "document") continue;
        const fast = fastValue(piece.text);
        if (fast === undefined) continue;
        answered++;
        const full = fullRead(piece.text);
        expect(
          full,
          `${file} document ${piece.index}: only the fast reader reads it`,
        ).toBeDefined();
        expect(JSON.parse(JSON.stringify(fast)), `${file} document ${piece.index}`).toEqual(
          JSON.parse(JSON.stringify(full?.value ?? null)),
        );
      }
    }
    // Booleans, numbers, strings, quoting and the like go the fast way.
    expect(answered).toBeGreaterThanOrEqual(5);
  });

  it("an input problem names the file, document and line for each failing case", () => {
    for (const file of files.filter((f) => oracle.get(f)?.error)) {
      const { problems } = parseManifests(readFileSync(join(corpus, file), "utf8"), file);
      expect(problems.length, file).toBeGreaterThan(0);
      expect(problems[0]?.source).toBe(file);
      expect(problems[0]?.line, file).toBeGreaterThan(0);
    }
  });
});
