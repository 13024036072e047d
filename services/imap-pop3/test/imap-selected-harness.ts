/**
 * Shared fixture for the selected-state tests: a fresh migrated Postgres database, an account made
 * with libs/directory, the filesystem blob store, an in-process ChangeNotifier, and sessions whose
 * ResponseSink collects the output. Messages are delivered the way delivery does it: parsed with
 * libs/mime, put in the blob store, appended with libs/mailstore.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { FsBlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import { addDomain, createAccount } from "@postline/directory";
import { appendMessage } from "@postline/mailstore";
import { parseMessageBuffer } from "@postline/mime";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import type { ChangeNotifier, MailboxChange, ResponseSink, SessionContext, TaggedResult } from "../src/imap/server/core/op.ts";
import type { Command, SequenceSet } from "../src/imap/protocol/types.ts";

export class TestNotifier implements ChangeNotifier {
  readonly announced: MailboxChange[] = [];
  private readonly watchers = new Map<number, Set<() => void>>();
  watch(mailboxId: number, onChange: () => void): () => void {
    let s = this.watchers.get(mailboxId);
    if (!s) this.watchers.set(mailboxId, (s = new Set()));
    const entry = () => onChange();
    s.add(entry);
    return () => s.delete(entry);
  }
  async announce(changes: MailboxChange[]): Promise<void> {
    this.announced.push(...changes);
    for (const c of changes) for (const w of this.watchers.get(c.mailboxId) ?? []) w();
  }
}

export class CollectingSink implements ResponseSink {
  private chunks: Buffer[] = [];
  write(chunk: string | Buffer): void {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
  }
  async stream(body: Readable): Promise<void> {
    for await (const c of body) this.chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  }
  /** Everything written since the last take. */
  take(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    return all;
  }
}

/** A sequence set from its wire form (`1:3,5,7:*`) or `$`. */
export function seqSet(text: string): SequenceSet {
  if (text === "$") return { kind: "saved" };
  return {
    kind: "set",
    ranges: text.split(",").map((r) => {
      const [a, b] = r.split(":");
      const n = (x: string) => (x === "*" ? ("*" as const) : Number(x));
      return { from: n(a!), to: n(b ?? a!) };
    }),
  };
}

const notABus = new Proxy({} as Bus, {
  get() {
    throw new Error("the selected-state ops do not use the bus");
  },
});

export interface Session {
  ctx: SessionContext;
  out: CollectingSink;
  /** Runs an op as the session does: the op, then sync (with expunges unless FETCH/STORE/SEARCH). Returns the output and the result. */
  run<C extends Command>(op: (ctx: SessionContext, command: C, out: ResponseSink) => Promise<TaggedResult>, command: C): Promise<{ result: TaggedResult; text: string; raw: Buffer }>;
}

export interface Harness {
  t: TestDatabase;
  blobs: FsBlobStore;
  notifier: TestNotifier;
  accountId: number;
  mailboxId(name: string): Promise<number>;
  /** With `prefix`: stored as delivery stores it, the prefix in the row before the blob of `raw`. */
  deliver(raw: string | Buffer, options?: { mailbox?: string; flags?: string[]; date?: Date; mailId?: string; prefix?: string }): Promise<{ uid: number; key: string }>;
  session(enabled?: string[]): Session;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const t = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "imap-selected-"));
  const blobs = await FsBlobStore.open(dir);
  const notifier = new TestNotifier();
  await addDomain(t.db, "example.test");
  const account = await createAccount(t.db, { address: "alice@example.test", password: "correct horse battery" });
  const logger = createLogger("imap-test", "silent");
  let sessions = 0;

  const mailboxId = async (name: string): Promise<number> => {
    const r = await t.db.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2", [account.id, name]);
    return Number(r.rows[0]!.id);
  };

  return {
    t,
    blobs,
    notifier,
    accountId: account.id,
    mailboxId,
    async deliver(raw, options = {}) {
      const bytes = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
      const prefix = options.prefix === undefined ? null : Buffer.from(options.prefix, "utf8");
      const structure = parseMessageBuffer(prefix ? Buffer.concat([prefix, bytes]) : bytes);
      const ref = await blobs.put(bytes);
      const r = await appendMessage(t.db, {
        accountId: account.id,
        mailboxId: await mailboxId(options.mailbox ?? "INBOX"),
        blob: { key: ref.key, size: (prefix?.length ?? 0) + ref.size, prefix },
        flags: options.flags ?? [],
        internalDate: options.date ?? new Date("2026-03-04T05:06:07Z"),
        structure,
        ...(options.mailId ? { mailId: options.mailId } : {}),
      });
      return { uid: r.uid, key: ref.key };
    },
    session(enabled = []) {
      const ctx: SessionContext = {
        id: `s${++sessions}`,
        state: "authenticated",
        account: { id: account.id, address: account.address },
        enabled: new Set(enabled),
        savedSearch: [],
        tls: true,
        clientIp: "127.0.0.1",
        db: t.db,
        blobs,
        bus: notABus,
        logger,
        notifier,
        settings: { appendLimit: 50 * 1024 * 1024 },
      };
      const out = new CollectingSink();
      return {
        ctx,
        out,
        async run(op, command) {
          ctx.tag = "a1";
          const result = await op(ctx, command, out);
          const name = command.name;
          if (ctx.selected) await ctx.selected.sync(out, { expunges: !["FETCH", "STORE", "SEARCH"].includes(name) });
          const raw = out.take();
          return { result, raw, text: raw.toString("utf8") };
        },
      };
    },
    async close() {
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A small text message. */
export function textMessage(subject: string, body: string, extra = ""): string {
  return (
    `From: Bob Example <bob@example.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n` +
    `Date: Tue, 3 Mar 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.test>\r\n${extra}\r\n${body}`
  );
}
