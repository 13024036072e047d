import type { Command, StatusItem } from "../types.ts";
import type { Reader } from "./reader.ts";

const ITEMS = new Set<StatusItem>(["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ", "RECENT", "APPENDLIMIT"]);

/** "(" status-att *(SP status-att) ")". */
export function statusItems(r: Reader): StatusItem[] {
  r.expectChar("(", "a list of status items");
  const items: StatusItem[] = [];
  do {
    const item = r.atom("a status item").toUpperCase() as StatusItem;
    if (!ITEMS.has(item)) r.fail(`unknown status item ${item}`);
    if (!items.includes(item)) items.push(item);
  } while (r.trySp());
  r.expectChar(")", `")" closing the status items`);
  return items;
}

/** STATUS SP mailbox SP "(" status-att *(SP status-att) ")". */
export function parseStatus(r: Reader): Command {
  r.sp();
  const mailbox = r.astring("a mailbox name");
  r.sp();
  return { name: "STATUS", mailbox, items: statusItems(r) };
}
