// Regular expressions in CEL are RE2: linear time on any input. JavaScript's
// RegExp backtracks, so a pattern such as `^(a+)+$` against a long field of a
// request could stall admission. Every regex function here runs on re2js.
import { RE2JS } from "re2js";

/** Compiled patterns per environment: the same few literals are used on every request. */
export class RegexCache {
  private readonly compiled = new Map<string, RE2JS>();

  constructor(private readonly limit = 256) {}

  /** Throws an Error naming the pattern when it is not valid RE2 syntax. */
  get(pattern: string): RE2JS {
    let re = this.compiled.get(pattern);
    if (re) return re;
    try {
      re = RE2JS.compile(pattern);
    } catch (error) {
      throw new Error(
        `invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`,
      );
    }
    if (this.compiled.size >= this.limit) this.compiled.clear();
    this.compiled.set(pattern, re);
    return re;
  }

  matches(text: string, pattern: string): boolean {
    return this.get(pattern).matcher(text).find();
  }

  /** The first match, or "" when there is none. */
  find(text: string, pattern: string): string {
    const m = this.get(pattern).matcher(text);
    return m.find() ? (m.group() ?? "") : "";
  }

  /** Up to `limit` matches (all when negative). */
  findAll(text: string, pattern: string, limit = -1n): string[] {
    const m = this.get(pattern).matcher(text);
    const out: string[] = [];
    while ((limit < 0n || BigInt(out.length) < limit) && m.find()) out.push(m.group() ?? "");
    return out;
  }
}
