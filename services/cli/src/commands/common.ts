import type { Command } from "commander";

/** True when `--json` was given (it is a global option of the program). */
export function wantsJson(cmd: Command): boolean {
  return Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
}
