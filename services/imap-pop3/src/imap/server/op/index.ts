import type { CommandName, Command } from "../../protocol/types.ts";
import type { Op } from "../core/op.ts";
import { appendOp } from "./append.ts";
import { capabilityOp } from "./capability.ts";
import { checkOp } from "./check.ts";
import { closeOp, unselectOp } from "./close.ts";
import { copyOp, moveOp } from "./copy-move.ts";
import { createOp } from "./create.ts";
import { deleteOp } from "./delete.ts";
import { enableOp } from "./enable.ts";
import { expungeOp } from "./expunge.ts";
import { fetchOp } from "./fetch.ts";
import { idOp } from "./id.ts";
import { listOp } from "./list.ts";
import { lsubOp } from "./lsub.ts";
import { namespaceOp } from "./namespace.ts";
import { noopOp } from "./noop.ts";
import { getQuotaOp, getQuotaRootOp, setQuotaOp } from "./quota.ts";
import { renameOp } from "./rename.ts";
import { searchOp } from "./search.ts";
import { selectOp } from "./select.ts";
import { statusOp } from "./status.ts";
import { storeOp } from "./store.ts";
import { subscribeOp, unsubscribeOp } from "./subscribe.ts";

/** Commands the session runs itself (they change the connection, not the store). */
export type SessionCommand = "LOGOUT" | "STARTTLS" | "LOGIN" | "AUTHENTICATE" | "IDLE";

/** Commands that share one request shape (`name: "SELECT" | "EXAMINE"`), hence one op type. */
type Shared = "SELECT" | "EXAMINE" | "COPY" | "MOVE";

export type OpTable = { [N in Exclude<CommandName, SessionCommand | Shared>]: Op<N> } & {
  SELECT: typeof selectOp;
  EXAMINE: typeof selectOp;
  COPY: typeof copyOp;
  MOVE: typeof moveOp;
};

/** Every command an op executes, by name. */
export const ops: OpTable = {
  CAPABILITY: capabilityOp,
  NOOP: noopOp,
  ENABLE: enableOp,
  ID: idOp,
  NAMESPACE: namespaceOp,
  SELECT: selectOp,
  EXAMINE: selectOp,
  CREATE: createOp,
  DELETE: deleteOp,
  RENAME: renameOp,
  SUBSCRIBE: subscribeOp,
  UNSUBSCRIBE: unsubscribeOp,
  LIST: listOp,
  LSUB: lsubOp,
  STATUS: statusOp,
  APPEND: appendOp,
  CHECK: checkOp,
  CLOSE: closeOp,
  UNSELECT: unselectOp,
  EXPUNGE: expungeOp,
  SEARCH: searchOp,
  FETCH: fetchOp,
  STORE: storeOp,
  COPY: copyOp,
  MOVE: moveOp,
  GETQUOTA: getQuotaOp,
  GETQUOTAROOT: getQuotaRootOp,
  SETQUOTA: setQuotaOp,
};

/** The op for a command (typed loosely: the table guarantees name and op agree). */
export function opFor(command: Command): Op | undefined {
  return (ops as Record<string, Op | undefined>)[command.name];
}

/** In which states a command is valid (RFC 9051 6.1–6.4). */
export type CommandClass = "any" | "not-authenticated" | "authenticated" | "authenticated-only" | "selected";

export const commandClass: Record<CommandName, CommandClass> = {
  CAPABILITY: "any",
  NOOP: "any",
  LOGOUT: "any",
  ID: "any",
  STARTTLS: "not-authenticated",
  LOGIN: "not-authenticated",
  AUTHENTICATE: "not-authenticated",
  // RFC 5161 3.1: ENABLE only in the authenticated state.
  ENABLE: "authenticated-only",
  NAMESPACE: "authenticated",
  SELECT: "authenticated",
  EXAMINE: "authenticated",
  CREATE: "authenticated",
  DELETE: "authenticated",
  RENAME: "authenticated",
  SUBSCRIBE: "authenticated",
  UNSUBSCRIBE: "authenticated",
  LIST: "authenticated",
  LSUB: "authenticated",
  STATUS: "authenticated",
  APPEND: "authenticated",
  IDLE: "authenticated",
  GETQUOTA: "authenticated",
  GETQUOTAROOT: "authenticated",
  SETQUOTA: "authenticated",
  CHECK: "selected",
  CLOSE: "selected",
  UNSELECT: "selected",
  EXPUNGE: "selected",
  SEARCH: "selected",
  FETCH: "selected",
  STORE: "selected",
  COPY: "selected",
  MOVE: "selected",
};
