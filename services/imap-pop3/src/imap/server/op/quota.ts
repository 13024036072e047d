import type { Op, SessionContext } from "../core/op.ts";
import { quoted } from "../../protocol/encode.ts";
import { mailboxToWire, nameOrBad } from "../core/mailbox-names.ts";
import { findMailboxRow } from "../core/mailboxes.ts";

/**
 * QUOTA (RFC 9208) with the STORAGE resource: one quota root, "", for the whole account, from
 * accounts.used_bytes / quota_bytes, in units of 1024 octets. An account without a quota has no
 * quota root. SETQUOTA is for administrators (the admin API), not for IMAP clients.
 */
async function storage(ctx: SessionContext): Promise<{ used: number; limit: number } | null> {
  const r = await ctx.db.query<{ used_bytes: string; quota_bytes: string | null }>("SELECT used_bytes, quota_bytes FROM accounts WHERE id = $1", [ctx.account!.id]);
  const row = r.rows[0];
  if (!row || row.quota_bytes === null) return null;
  return { used: Math.ceil(Number(row.used_bytes) / 1024), limit: Math.floor(Number(row.quota_bytes) / 1024) };
}

const quotaLine = (s: { used: number; limit: number }) => `* QUOTA "" (STORAGE ${s.used} ${s.limit})\r\n`;

export const getQuotaOp: Op<"GETQUOTA"> = async (ctx, command, out) => {
  if (command.root !== "") return { status: "NO", code: "NONEXISTENT", text: `no quota root ${quoted(command.root)}` };
  const s = await storage(ctx);
  if (!s) return { status: "NO", code: "NONEXISTENT", text: "no quota is set for this account" };
  out.write(quotaLine(s));
  return { status: "OK", text: "GETQUOTA completed" };
};

export const getQuotaRootOp: Op<"GETQUOTAROOT"> = async (ctx, command, out) => {
  const n = nameOrBad(ctx, command.mailbox);
  if ("bad" in n) return n.bad;
  const mailbox = await findMailboxRow(ctx.db, ctx.account!.id, n.name);
  if (!mailbox) return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
  const s = await storage(ctx);
  out.write(`* QUOTAROOT ${mailboxToWire(ctx, mailbox.name)}${s ? ' ""' : ""}\r\n`);
  if (s) out.write(quotaLine(s));
  return { status: "OK", text: "GETQUOTAROOT completed" };
};

export const setQuotaOp: Op<"SETQUOTA"> = async () => ({ status: "NO", code: "NOPERM", text: "quotas are set by the administrator" });
