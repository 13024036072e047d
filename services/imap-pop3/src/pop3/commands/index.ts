import type { Pop3Session, Pop3State } from "../session.ts";
import { auth, pass, stls, user } from "./authorization.ts";
import { capa } from "./capa.ts";
import { dele, list, noop, quit, rset, stat, uidl } from "./transaction.ts";
import { retr, top } from "./retrieve.ts";

export interface Pop3Command {
  /** The states the command is valid in (RFC 1939 and its extensions). */
  states: readonly Pop3State[];
  /** Runs the command; `args` is the rest of the line after the keyword and one space. */
  run(session: Pop3Session, args: string): Promise<void>;
}

const AUTHORIZATION = ["authorization"] as const;
const TRANSACTION = ["transaction"] as const;

export const COMMANDS: Record<string, Pop3Command | undefined> = {
  CAPA: { states: ["authorization", "transaction"], run: capa },
  QUIT: { states: ["authorization", "transaction"], run: quit },
  USER: { states: AUTHORIZATION, run: user },
  PASS: { states: AUTHORIZATION, run: pass },
  AUTH: { states: AUTHORIZATION, run: auth },
  STLS: { states: AUTHORIZATION, run: stls },
  STAT: { states: TRANSACTION, run: stat },
  LIST: { states: TRANSACTION, run: list },
  UIDL: { states: TRANSACTION, run: uidl },
  RETR: { states: TRANSACTION, run: retr },
  TOP: { states: TRANSACTION, run: top },
  DELE: { states: TRANSACTION, run: dele },
  RSET: { states: TRANSACTION, run: rset },
  NOOP: { states: TRANSACTION, run: noop },
};
