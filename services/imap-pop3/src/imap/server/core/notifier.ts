import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Topics, type Bus, type Consumer } from "@postline/bus";
import { decodeEvent, mailboxChanged, publishEvent } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import type { ChangeNotifier, MailboxChange } from "./op.ts";

/**
 * `mailbox.changed` for the sessions of this process. Every process must see every change, so each
 * one listens in a consumer group of its own (`imap-<host>-<pid>-<random>`), ephemeral: starting at
 * the newest record (a change made before the process started is not news to anybody it serves) and
 * committing nothing, so a stopped or killed process leaves no group position behind (no lag to
 * alert on in Kafka, nothing that holds back the embedded bus's trim).
 *
 * The published events carry `origin: "user"` and, for appends made by COPY or MOVE, the source
 * mailbox: the spam filter's learner trains on moves into and out of Junk from them.
 *
 * Our own changes wake local watchers at once and go to the bus for the other processes (delivery
 * publishes there too). They come back to us through the bus as well; a second wake-up only costs
 * the session one more look at its mailbox.
 */
export class BusChangeNotifier implements ChangeNotifier {
  private readonly watchers = new Map<number, Set<() => void>>();
  private consumer: Consumer | undefined;
  readonly groupId = `imap-${hostname().replace(/[^A-Za-z0-9_.-]/g, "_")}-${process.pid}-${randomBytes(4).toString("hex")}`;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.bus.consume({
      groupId: this.groupId,
      topics: [Topics.mailboxChanged],
      ephemeral: true,
      partitionsConcurrently: 64,
      handler: async (message) => {
        let event;
        try {
          event = decodeEvent(mailboxChanged, message);
        } catch (err) {
          this.logger.warn({ err, offset: message.offset }, "ignoring an invalid mailbox.changed record");
          return;
        }
        this.wake(event.mailboxId);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  watch(mailboxId: number, onChange: () => void): () => void {
    let set = this.watchers.get(mailboxId);
    if (!set) this.watchers.set(mailboxId, (set = new Set()));
    // One entry per watch call, even when the same function watches twice.
    const entry = () => onChange();
    set.add(entry);
    return () => {
      const s = this.watchers.get(mailboxId);
      if (!s) return;
      s.delete(entry);
      if (s.size === 0) this.watchers.delete(mailboxId);
    };
  }

  async announce(changes: MailboxChange[]): Promise<void> {
    for (const mailboxId of new Set(changes.map((c) => c.mailboxId))) this.wake(mailboxId);
    // The change is committed already: a bus failure must not turn the command's OK into an error.
    // Sessions on other processes still see it through their periodic re-sync.
    await Promise.all(
      changes.map((c) =>
        publishEvent(this.bus, Topics.mailboxChanged, mailboxChanged, String(c.accountId), {
          v: 1,
          accountId: c.accountId,
          mailboxId: c.mailboxId,
          uid: c.uid,
          modseq: c.modseq,
          kind: c.kind,
          ...(c.mailId ? { mailId: c.mailId } : {}),
          // Every change announced here is a user's (IMAP or POP3); delivery publishes its own.
          origin: "user",
          ...(c.sourceMailboxId ? { sourceMailboxId: c.sourceMailboxId } : {}),
        }).catch((err: unknown) => this.logger.warn({ err, mailboxId: c.mailboxId }, "could not publish mailbox.changed")),
      ),
    );
  }

  /** Sessions watching anything: for tests and metrics. */
  get watched(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  private wake(mailboxId: number): void {
    const set = this.watchers.get(mailboxId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err, mailboxId }, "a mailbox watcher threw");
      }
    }
  }
}
