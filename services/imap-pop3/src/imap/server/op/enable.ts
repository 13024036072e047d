import type { Op } from "../core/op.ts";
import { ENABLEABLE } from "../capabilities.ts";

/**
 * ENABLE (RFC 5161): CONDSTORE, QRESYNC (which implies CONDSTORE, RFC 7162 3.2.3) and IMAP4rev2.
 * `* ENABLED` lists what this command turned on; unknown or already enabled names are left out.
 */
export const enableOp: Op<"ENABLE"> = async (ctx, command, out) => {
  const enabled: string[] = [];
  const turnOn = (name: string) => {
    if (ctx.enabled.has(name)) return;
    ctx.enabled.add(name);
    enabled.push(name === "IMAP4REV2" ? "IMAP4rev2" : name);
  };
  for (const raw of command.capabilities) {
    const name = raw.toUpperCase();
    if (!ENABLEABLE.has(name)) continue;
    if (name === "QRESYNC") turnOn("CONDSTORE");
    turnOn(name);
  }
  out.write(`* ENABLED${enabled.map((e) => ` ${e}`).join("")}\r\n`);
  return { status: "OK", text: "ENABLE completed" };
};
