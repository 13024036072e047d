import type { AppendMessage, Command } from "../types.ts";
import { dateTime } from "./date.ts";
import { flagList } from "./flags.ts";
import type { Reader } from "./reader.ts";

/** APPEND SP mailbox [SP flag-list] [SP date-time] SP (literal / literal8) (RFC 9051, RFC 3516). */
export function parseAppend(r: Reader): Command {
  r.sp();
  const mailbox = r.astring("a mailbox name");
  r.sp();
  const message: AppendMessage = { flags: [], content: Buffer.alloc(0) };
  if (r.peek() === 0x28) {
    message.flags = flagList(r);
    r.sp();
  }
  if (r.peek() === 0x22) {
    message.date = dateTime(r);
    r.sp();
  }
  if (!r.atLiteral()) r.fail("expected the message as a literal");
  message.content = r.literal().content;
  return { name: "APPEND", mailbox, messages: [message] };
}
