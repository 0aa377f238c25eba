import { styleText } from "node:util";

export type Style = Parameters<typeof styleText>[0];
export type Paint = (style: Style, text: string) => string;

/**
 * Paints text when `color` is on. The caller has already decided (from
 * --color, NO_COLOR and whether stdout is a terminal), so the stream is not
 * checked again here.
 */
export function painter(color: boolean): Paint {
  return color
    ? (style, text) => styleText(style, text, { validateStream: false })
    : (_style, text) => text;
}

/** `12,345`: counts as people read them. */
export function count(value: number): string {
  return value.toLocaleString("en-US");
}

/** `1 resource`, `3 policies`, `12,345 objects`. */
export function plural(value: number, word: string): string {
  if (value === 1) return `${count(value)} ${word}`;
  return `${count(value)} ${word.endsWith("y") ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}
