/**
 * CLOSE (expunges \Deleted messages silently when the mailbox is read-write) and UNSELECT
 * (RFC 3691): both leave the selected state without any untagged response.
 */
import { NOT_SELECTED, selectedView } from "../core/mailbox-view.ts";
import type { Op, SessionContext } from "../core/op.ts";
import { expungeDeleted } from "./expunge.ts";

export const closeOp: Op<"CLOSE"> = async (ctx) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (!view.readOnly) await expungeDeleted(ctx, view, null);
  deselect(ctx);
  return { status: "OK", text: "CLOSE completed" };
};

export const unselectOp: Op<"UNSELECT"> = async (ctx) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  deselect(ctx);
  return { status: "OK", text: "UNSELECT completed" };
};

/** Back to the authenticated state; the view stops watching. */
export function deselect(ctx: SessionContext): void {
  ctx.selected?.close();
  ctx.selected = undefined;
  if (ctx.state === "selected") ctx.state = "authenticated";
}
