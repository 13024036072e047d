import { CliError } from "./errors.ts";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * A quota as people write it: `500M`, `1G`, `1.5GiB`, `2048` (bytes). Units are binary
 * (1K = 1024 bytes), as in Dovecot. `unlimited` or `none` give null.
 */
export function parseSize(input: string): number | null {
  const s = input.trim().toLowerCase();
  if (s === "unlimited" || s === "none") return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/.exec(s);
  if (!m) throw new CliError(`"${input}" is not a size (use e.g. 500M, 1G, 2048, or unlimited)`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!]!);
  if (!Number.isSafeInteger(bytes)) throw new CliError(`"${input}" is too large`);
  return bytes;
}

/** 1073741824 → "1 GiB"; null → "unlimited". */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return "unlimited";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : Number(v.toFixed(v < 10 ? 2 : 1))} ${units[i]}`;
}
