import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

/** What a command parser learns from the dispatcher: the command name (upper-cased) and whether it came after `UID`. */
export interface ParseContext {
  name: string;
  uid: boolean;
}

/** Parses the arguments after the command name (the reader sits right after the name). */
export type CommandParser = (r: Reader, ctx: ParseContext) => Command;
