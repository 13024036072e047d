import type { Op } from "../core/op.ts";

/** NAMESPACE (RFC 2342): one personal namespace, no prefix, "/" as the delimiter; no shared or other users' folders. */
export const namespaceOp: Op<"NAMESPACE"> = async (_ctx, _command, out) => {
  out.write('* NAMESPACE (("" "/")) NIL NIL\r\n');
  return { status: "OK", text: "NAMESPACE completed" };
};
