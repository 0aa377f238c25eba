// Counting work instead of timing it: unit tests must pass on a busy machine,
// so linear behaviour is checked by how much input a step reads, never by the
// clock. Timings of the same inputs live in `npm run bench` (hostile inputs).

/** What one run of `fn` handed to regular expressions. */
export interface RegexWork<T> {
  result: T;
  /** exec calls, which every test, match, replace and split goes through. */
  calls: number;
  /** Characters from each call's start position to the end of its input. */
  characters: number;
}

/**
 * Runs `fn` with RegExp.prototype.exec instrumented. Every regex method reaches
 * exec (the spec's RegExpExec looks it up), so `characters` bounds what the
 * regex engine was given to scan; a pattern that rescans its input from every
 * position shows up as calls × length.
 */
export function regexWork<T>(fn: () => T): RegexWork<T> {
  const original = RegExp.prototype.exec;
  let calls = 0;
  let characters = 0;
  RegExp.prototype.exec = function exec(this: RegExp, input: string) {
    calls++;
    const text = String(input);
    characters +=
      text.length - (this.global || this.sticky ? Math.min(this.lastIndex, text.length) : 0);
    return original.call(this, text);
  };
  try {
    return { result: fn(), calls, characters };
  } finally {
    RegExp.prototype.exec = original;
  }
}

/**
 * An array that counts reads of its elements, for checks that must visit each
 * element a bounded number of times (a nested scan shows up as n² reads).
 */
export function countingArray<T>(items: readonly T[]): { array: T[]; reads: () => number } {
  let reads = 0;
  const array = new Proxy([...items], {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { array, reads: () => reads };
}

/** What one run of `fn` iterated of strings, code point by code point. */
export interface CodePointWork<T> {
  result: T;
  /** Code points handed out by string iterators (spread, for…of, Array.from). */
  codePoints: number;
}

/** Runs `fn` with String.prototype[Symbol.iterator] instrumented. */
export function codePointWork<T>(fn: () => T): CodePointWork<T> {
  const original = Object.getOwnPropertyDescriptor(String.prototype, Symbol.iterator);
  const iterate = original?.value as (this: string) => IterableIterator<string>;
  let codePoints = 0;
  Object.defineProperty(String.prototype, Symbol.iterator, {
    ...original,
    value: function* codePointsOf(this: string) {
      const inner = iterate.call(this);
      for (let step = inner.next(); !step.done; step = inner.next()) {
        codePoints++;
        yield step.value;
      }
    },
  });
  try {
    return { result: fn(), codePoints };
  } finally {
    Object.defineProperty(String.prototype, Symbol.iterator, original as PropertyDescriptor);
  }
}
