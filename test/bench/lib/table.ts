// Plain-text tables for the bench's report: first column left-aligned, the
// figures right-aligned, a rule under the header.

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r, index) => {
      const line = r.map((cell, i) =>
        i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      );
      const text = line.join("  ");
      return index === 0 ? `${text}\n${"-".repeat(text.length)}` : text;
    })
    .join("\n");
}

/** A number with thousands separators, or an en dash when there is none. */
export function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n)
    ? "–"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
