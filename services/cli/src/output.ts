/** Prints `data` as JSON with --json, otherwise the human-readable text. */
export function emit(json: boolean, data: unknown, human: () => string): void {
  const text = json ? JSON.stringify(data, null, 2) : human();
  if (text) process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
