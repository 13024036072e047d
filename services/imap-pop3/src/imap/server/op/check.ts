import type { Op } from "../core/op.ts";

/** CHECK (RFC 3501 6.4.1, rev1 only): every change is committed already; acts as NOOP. */
export const checkOp: Op<"CHECK"> = async () => ({ status: "OK", text: "CHECK completed" });
