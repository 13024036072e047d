import { runProcess, type ProcessResult } from "@postline/testkit";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

export type CliResult = ProcessResult;

/**
 * Runs `postline <args>` as its own process with only the given POSTLINE_* variables (none are
 * inherited from the test's environment).
 */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return runProcess(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    input,
  });
}

/** Asserts success and returns stdout parsed as JSON. */
export function json<T = unknown>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`postline failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
