import type { Op } from "../core/op.ts";

/** NOOP (RFC 9051 6.1.2): nothing; the session sends the selected mailbox's updates after every command. */
export const noopOp: Op<"NOOP"> = async () => ({ status: "OK", text: "NOOP completed" });
