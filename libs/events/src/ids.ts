import { monotonicFactory } from "ulid";

const next = monotonicFactory();

/** A new mail id: a ULID, sortable by acceptance time; the queue id in the SMTP 250 reply. */
export function newMailId(): string {
  return next();
}
