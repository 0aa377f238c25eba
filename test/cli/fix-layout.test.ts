import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { diffLines } from "diff";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { fixText } from "../../src/cli/fixer.js";
import { restoreSequenceIndents, sequencesAllAt } from "../../src/cli/yaml-layout.js";
import { parseYaml } from "../../src/manifests/read.js";
import { defaultSet } from "../support/policies.js";

// Hand-written manifests in the layouts real projects use: sequences indented
// and flush mixed in one document, all flush, all indented with two or four
// spaces, aligned trailing comments, block scalars, a List. Their patches
// only add keys, so fix writes them as new lines; anchored-labels.yaml has an
// anchor, which sends it through the syntax tree instead.
const DIR = join(import.meta.dirname, "fixtures", "fix-layout");
const CORPUS = readdirSync(DIR).filter((name) => name.endsWith(".yaml"));

interface LineCount {
  added: number;
  removed: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function yamlLines(value: unknown): number {
  return stringify(value).trimEnd().split("\n").length;
}

/**
 * The lines a change from `before` to `after` needs at least: each new field
 * or item written as YAML under its key, one line per changed scalar.
 */
function linesNeeded(before: unknown, after: unknown, count: LineCount): LineCount {
  if (isObject(before) && isObject(after)) {
    for (const [key, value] of Object.entries(after)) {
      if (key in before) linesNeeded(before[key], value, count);
      else count.added += yamlLines({ [key]: value });
    }
    for (const [key, value] of Object.entries(before)) {
      if (!(key in after)) count.removed += yamlLines({ [key]: value });
    }
  } else if (Array.isArray(before) && Array.isArray(after)) {
    after.forEach((item, i) => {
      if (i < before.length) linesNeeded(before[i], item, count);
      else count.added += yamlLines([item]);
    });
    for (const item of before.slice(after.length)) count.removed += yamlLines([item]);
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    count.added += 1;
    count.removed += 1;
  }
  return count;
}

function values(text: string): unknown[] {
  return parseYaml(text).map((doc) => doc.toJS());
}

function changedLines(before: string, after: string): LineCount {
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += part.count ?? 0;
    if (part.removed) removed += part.count ?? 0;
  }
  return { added, removed };
}

describe("tollgate fix keeps the source layout", () => {
  it("has a corpus to run on", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of CORPUS) {
    it(`${name}: changes only the lines the patches need, and a second run changes nothing`, () => {
      const text = readFileSync(join(DIR, name), "utf8");
      const options = { set: defaultSet(), namespace: undefined };
      const fixed = fixText(text, name, options);
      expect(fixed.problems).toEqual([]);
      expect(fixed.changed).toBe(true);
      const needed = linesNeeded(values(text), values(fixed.text), { added: 0, removed: 0 });
      expect(needed.added).toBeGreaterThan(0);
      expect(changedLines(text, fixed.text)).toEqual(needed);
      const again = fixText(fixed.text, name, options);
      expect(again.patched).toEqual([]);
      expect(again.text).toBe(fixed.text);
    });
  }

  it("keeps each sequence's own indentation when a document mixes them", () => {
    const source = "a:\n  - x: 1\n    b:\n    - 2\nc:\n- 3\n";
    const [doc] = parseYaml(source);
    if (!doc) throw new Error("no document");
    const flush = doc.toString({ indentSeq: false });
    expect(flush).toBe("a:\n- x: 1\n  b:\n  - 2\nc:\n- 3\n");
    expect(restoreSequenceIndents(doc, source, flush, 2)).toBe(source);
  });

  it("indents a sequence the patch adds as the document's majority does", () => {
    const source = "a:\n  - 1\nb:\n  k: 1\n";
    const [doc] = parseYaml(source);
    if (!doc) throw new Error("no document");
    doc.setIn(["b", "new"], doc.createNode([1]));
    const flush = doc.toString({ indentSeq: false, flowCollectionPadding: false });
    expect(restoreSequenceIndents(doc, source, flush, 2)).toContain("  new:\n    - 1\n");
    expect(restoreSequenceIndents(doc, source, flush, 0)).toContain("  new:\n  - 1\n");
  });

  it("writes a one-style document directly, and only a mixed one through the re-parse", () => {
    const offsets = (source: string) => {
      const [doc] = parseYaml(source);
      if (!doc) throw new Error("no document");
      return [0, 2].filter((offset) => sequencesAllAt(doc, source, offset));
    };
    expect(offsets("a:\n  - x: 1\n    b:\n      - 2\n")).toEqual([2]);
    expect(offsets("a:\n- x: 1\n  b:\n  - 2\n")).toEqual([0]);
    expect(offsets("a:\n  - x: 1\n    b:\n    - 2\n")).toEqual([]);
    expect(offsets("a: [1]\nb: {}\n")).toEqual([0, 2]);
  });
});
