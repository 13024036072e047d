/**
 * SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 7162 MODSEQ).
 * The top-level AND is split: keys SQL can answer go into one query (./search/sql.ts), the rest are
 * evaluated per candidate message in JavaScript, reading content only when a key needs it
 * (./search/evaluate.ts), a few messages at a time. Results are limited to the session's view
 * (a message that arrived but was not yet announced has no sequence number; one expunged elsewhere
 * is not found). ESEARCH answers when RETURN was given or IMAP4rev2 is enabled.
 */
import { compactSet, quoted } from "../../protocol/encode.ts";
import type { SearchKey } from "../../protocol/types.ts";
import { INVALID_SEQUENCE, InvalidSequence, NOT_SELECTED, selectedView } from "../core/mailbox-view.ts";
import type { Op } from "../core/op.ts";
import { evaluate, MessageContent, type SearchRow } from "../search/evaluate.ts";
import { conjuncts, SqlBuilder, usesModseq } from "../search/sql.ts";

const CONTENT_CONCURRENCY = 8;

export const searchOp: Op<"SEARCH"> = async (ctx, command, out) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (command.charset !== undefined && !["UTF-8", "US-ASCII"].includes(command.charset.toUpperCase())) {
    return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: "unsupported charset" };
  }
  if (command.uid) view.usedUid = true;
  const withModseq = usesModseq(command.key);
  if (withModseq) ctx.enabled.add("CONDSTORE");

  let matched: Array<{ uid: number; modseq: number }>;
  try {
    matched = await run(command.key);
  } catch (err) {
    if (err instanceof InvalidSequence) return INVALID_SEQUENCE;
    throw err;
  }

  async function run(key: SearchKey): Promise<Array<{ uid: number; modseq: number }>> {
    const builder = new SqlBuilder(view!, [view!.mailboxId]);
    const inSql: string[] = [];
    const inJs: SearchKey[] = [];
    for (const k of conjuncts(key)) {
      const sql = builder.build(k);
      if (sql === null) inJs.push(k);
      else inSql.push(sql);
    }
    const columns = inJs.length
      ? "uid, modseq, flags, internal_date, sent_date, size, blob_hash, header_prefix, bodystructure, subject, from_addr, to_addr, cc_addr, bcc_addr"
      : "uid, modseq";
    const r = await ctx.db.query<SearchRow>(
      `SELECT ${columns} FROM messages WHERE mailbox_id = $1${inSql.map((s) => ` AND ${s}`).join("")} ORDER BY uid`,
      builder.params,
    );
    const rows = r.rows.filter((row) => view!.seqOf(Number(row.uid)) !== undefined && !view!.isPendingExpunge(Number(row.uid)));
    if (inJs.length === 0) return rows.map((x) => ({ uid: Number(x.uid), modseq: Number(x.modseq) }));
    const jsKey: SearchKey = inJs.length === 1 ? inJs[0]! : { kind: "and", keys: inJs };
    const keep = new Array<boolean>(rows.length).fill(false);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        const i = next++;
        const row = rows[i]!;
        row.uid = Number(row.uid);
        row.modseq = Number(row.modseq);
        row.size = Number(row.size);
        keep[i] = await evaluate(jsKey, row, new MessageContent(ctx.blobs, row), view!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONTENT_CONCURRENCY, rows.length) }, worker));
    return rows.filter((_, i) => keep[i]).map((x) => ({ uid: Number(x.uid), modseq: Number(x.modseq) }));
  }

  const nums = matched.map((m) => (command.uid ? m.uid : view.seqOf(m.uid)!));
  const maxModseq = matched.reduce((a, m) => Math.max(a, m.modseq), 0);
  const returns = command.returns ?? (ctx.enabled.has("IMAP4REV2") ? [] : undefined);

  if (returns === undefined) {
    out.write(`* SEARCH${nums.length ? " " + nums.join(" ") : ""}${withModseq && nums.length ? ` (MODSEQ ${maxModseq})` : ""}\r\n`);
    return { status: "OK", text: "SEARCH completed" };
  }

  const wanted = new Set(returns.length === 0 ? ["ALL"] : returns);
  if (wanted.has("SAVE")) {
    const onlyMinMax = !wanted.has("ALL") && !wanted.has("COUNT") && (wanted.has("MIN") || wanted.has("MAX"));
    if (onlyMinMax) {
      const saved: number[] = [];
      if (wanted.has("MIN") && matched.length) saved.push(matched[0]!.uid);
      if (wanted.has("MAX") && matched.length) saved.push(matched[matched.length - 1]!.uid);
      ctx.savedSearch = [...new Set(saved)];
    } else {
      ctx.savedSearch = matched.map((m) => m.uid);
    }
    wanted.delete("SAVE");
    if (wanted.size === 0) return { status: "OK", text: "SEARCH completed, result saved" };
  }
  let line = "* ESEARCH";
  if (ctx.tag !== undefined) line += ` (TAG ${quoted(ctx.tag)})`;
  if (command.uid) line += " UID";
  if (nums.length > 0) {
    if (wanted.has("MIN")) line += ` MIN ${nums[0]}`;
    if (wanted.has("MAX")) line += ` MAX ${nums[nums.length - 1]}`;
  }
  if (wanted.has("COUNT")) line += ` COUNT ${nums.length}`;
  if (wanted.has("ALL") && nums.length > 0) line += ` ALL ${compactSet(nums)}`;
  if (withModseq && nums.length > 0) line += ` MODSEQ ${maxModseq}`;
  out.write(`${line}\r\n`);
  return { status: "OK", text: "SEARCH completed" };
};
