import { CommandReceiver, type Received, type ReceiverOptions } from "../src/imap/protocol/receiver.ts";
import type { Command } from "../src/imap/protocol/types.ts";

export const LIMITS = { maxLineLength: 8192, maxLiteralSize: 1 << 20, maxCommandSize: 2 << 20 };

/** Feeds `wire` (whole, then ended) and collects every Received up to the end. */
export async function receiveAll(wire: string | Buffer, options: Partial<ReceiverOptions> = {}): Promise<{ received: Received[]; continues: number }> {
  let continues = 0;
  const receiver = new CommandReceiver({ ...LIMITS, continueLiteral: () => continues++, ...options });
  receiver.push(typeof wire === "string" ? Buffer.from(wire, "utf8") : wire);
  receiver.end();
  const received: Received[] = [];
  for (;;) {
    const r = await receiver.next();
    if (r.kind === "end") break;
    received.push(r);
    if (r.kind === "failure" && r.fatal) break;
  }
  return { received, continues };
}

/** The command of a one-command input; throws with the failure text when it did not parse. */
export async function parse(wire: string | Buffer): Promise<Command> {
  const { received } = await receiveAll(wire);
  const first = received[0];
  if (!first || first.kind !== "request") throw new Error(`not a request: ${JSON.stringify(first)}`);
  return first.request.command;
}

/** The failure text of a one-command input; throws when it parsed. */
export async function failure(wire: string | Buffer): Promise<{ tag: string | null; text: string }> {
  const { received } = await receiveAll(wire);
  const first = received[0];
  if (!first || first.kind !== "failure") throw new Error(`not a failure: ${JSON.stringify(first)}`);
  return first.failure;
}
