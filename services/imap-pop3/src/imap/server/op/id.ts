import type { Op } from "../core/op.ts";
import { quoted } from "../../protocol/encode.ts";

export const SERVER_VERSION = "0.1.0";

/** ID (RFC 2971): the client's identification goes to the log; we name ourselves. */
export const idOp: Op<"ID"> = async (ctx, command, out) => {
  if (command.params) {
    const params = Object.fromEntries(Object.entries(command.params).slice(0, 30).map(([k, v]) => [k.slice(0, 30), v?.slice(0, 1024) ?? null]));
    ctx.logger.info({ session: ctx.id, client: params }, "IMAP client identified itself");
  }
  out.write(`* ID (${quoted("name")} ${quoted("Postline")} ${quoted("version")} ${quoted(SERVER_VERSION)} ${quoted("vendor")} ${quoted("Postline")})\r\n`);
  return { status: "OK", text: "ID completed" };
};
