import type { Op } from "../core/op.ts";
import { sessionCapabilities, type PlaintextAuthFlag } from "../capabilities.ts";

/** CAPABILITY (RFC 9051 6.1.1): what this session may use now. */
export const capabilityOp: Op<"CAPABILITY"> = async (ctx, _command, out) => {
  out.write(`* CAPABILITY ${sessionCapabilities(ctx as typeof ctx & PlaintextAuthFlag)}\r\n`);
  return { status: "OK", text: "CAPABILITY completed" };
};
