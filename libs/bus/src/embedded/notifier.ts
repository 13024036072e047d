import { EventEmitter } from "node:events";
import type { Db } from "@postline/db";

/**
 * In-process wake-ups between buses sharing one Db object: "produced" (topic) after an append
 * commits, "group" (group id) when a member joins, leaves or releases a partition. Other
 * processes are reached by polling instead.
 */
export interface BusNotifier {
  produced(topic: string): void;
  groupChanged(groupId: string): void;
  onProduced(fn: (topic: string) => void): () => void;
  onGroupChanged(fn: (groupId: string) => void): () => void;
}

const notifiers = new WeakMap<Db, BusNotifier>();

export function notifierFor(db: Db): BusNotifier {
  let notifier = notifiers.get(db);
  if (!notifier) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const on = (event: string, fn: (arg: string) => void) => {
      emitter.on(event, fn);
      return () => void emitter.off(event, fn);
    };
    notifier = {
      produced: (topic) => void emitter.emit("produced", topic),
      groupChanged: (groupId) => void emitter.emit("group", groupId),
      onProduced: (fn) => on("produced", fn),
      onGroupChanged: (fn) => on("group", fn),
    };
    notifiers.set(db, notifier);
  }
  return notifier;
}
