import type { Op } from "../core/op.ts";
import { nameOrBad, parentsOf, validateNewName } from "../core/mailbox-names.ts";
import { nextUidValidity } from "../core/mailboxes.ts";

/** The special-use attributes the schema can hold (RFC 6154). */
const SPECIAL_USES = new Map(["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"].map((u) => [u.toUpperCase(), u]));

/**
 * CREATE (RFC 9051 6.3.4) with CREATE-SPECIAL-USE (RFC 6154 3): missing parents are created too
 * (`a/b/c` makes `a` and `a/b`), so a hierarchy never has holes. At most one special-use
 * attribute per mailbox (the store keeps one).
 */
export const createOp: Op<"CREATE"> = async (ctx, command) => {
  const n = nameOrBad(ctx, command.mailbox);
  if ("bad" in n) return n.bad;
  const name = n.name;
  if (name === "INBOX") return { status: "NO", code: "ALREADYEXISTS", text: "INBOX always exists" };
  const invalid = validateNewName(name);
  if (invalid) return { status: "NO", code: "CANNOT", text: invalid };

  let specialUse: string | null = null;
  if (command.specialUse && command.specialUse.length > 0) {
    if (command.specialUse.length > 1) return { status: "NO", code: "USEATTR", text: "only one special-use attribute per mailbox" };
    specialUse = SPECIAL_USES.get(command.specialUse[0]!.toUpperCase()) ?? null;
    if (!specialUse) return { status: "NO", code: "USEATTR", text: `unsupported special-use attribute ${command.specialUse[0]}` };
  }

  const accountId = ctx.account!.id;
  const created = await ctx.db.transaction(async (tx) => {
    // Serialises CREATE/RENAME/DELETE of one account, so the existence checks hold.
    await tx.query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [accountId]);
    const existing = await tx.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, name]);
    if (existing.rows.length > 0) return false;
    for (const parent of parentsOf(name)) {
      const v = await nextUidValidity(tx, accountId);
      await tx.query(
        "INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES ($1, $2, $3) ON CONFLICT (account_id, name) DO NOTHING",
        [accountId, parent, v],
      );
    }
    const v = await nextUidValidity(tx, accountId);
    await tx.query("INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES ($1, $2, $3, $4)", [accountId, name, specialUse, v]);
    return true;
  });
  if (!created) return { status: "NO", code: "ALREADYEXISTS", text: "mailbox already exists" };
  return { status: "OK", text: "CREATE completed" };
};
