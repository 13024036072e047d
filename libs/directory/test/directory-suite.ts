import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Db } from "@postline/db";
import {
  AlreadyExists,
  DomainNotEmpty,
  DomainNotFound,
  InvalidInput,
  NotFound,
  addAlias,
  addDomain,
  createAccount,
  deleteAccount,
  findAccount,
  getAccount,
  getDomain,
  listAccounts,
  listAliases,
  listDomains,
  removeAlias,
  removeDomain,
  resolveRecipient,
  setCatchAll,
  setDisabled,
  setPassword,
  setQuota,
  updateAccount,
  verifyPassword,
} from "../src/index.ts";

const PASSWORD = "correct horse battery staple";

/** The directory's behaviour, run once against PostgreSQL and once against PGlite. */
export function directorySuite(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  describe(name, () => {
    let db: Db;
    let close: () => Promise<void>;
    before(async () => {
      ({ db, close } = await open());
    });
    after(async () => {
      await close();
    });

    test("domains: add, normalise, list, get, duplicate, catch-all", async () => {
      const d = await addDomain(db, "Example.COM.");
      assert.equal(d.name, "example.com");
      assert.equal(d.catchAll, null);
      assert.ok(d.createdAt instanceof Date);
      const idn = await addDomain(db, "Bücher.example");
      assert.equal(idn.name, "xn--bcher-kva.example");
      assert.equal((await getDomain(db, "bücher.EXAMPLE")).id, idn.id);
      await assert.rejects(addDomain(db, "example.com"), AlreadyExists);
      await assert.rejects(addDomain(db, "bad_domain.com"), InvalidInput);
      await assert.rejects(addDomain(db, "-x.com"), InvalidInput);
      await assert.rejects(addDomain(db, "192.168.1.1"), InvalidInput);
      await assert.rejects(addDomain(db, ""), InvalidInput);
      await assert.rejects(addDomain(db, `${"a".repeat(64)}.com`), InvalidInput);
      assert.deepEqual(
        (await listDomains(db)).map((x) => x.name),
        ["example.com", "xn--bcher-kva.example"],
      );
      const withCatchAll = await setCatchAll(db, "example.com", "Postmaster@Example.com");
      assert.equal(withCatchAll.catchAll, "postmaster@example.com");
      assert.equal((await setCatchAll(db, "example.com", null)).catchAll, null);
      await assert.rejects(setCatchAll(db, "nowhere.test", null), DomainNotFound);
      await assert.rejects(getDomain(db, "nowhere.test"), DomainNotFound);
    });

    test("accounts: create with argon2id hash and the default mailboxes in one go", async () => {
      const a = await createAccount(db, { address: "Alice@EXAMPLE.com", password: PASSWORD, quotaBytes: 1024 });
      assert.equal(a.address, "alice@example.com");
      assert.equal(a.localPart, "alice");
      assert.equal(a.domain, "example.com");
      assert.equal(a.quotaBytes, 1024);
      assert.equal(a.usedBytes, 0);
      assert.equal(a.disabled, false);
      assert.equal((a as unknown as Record<string, unknown>).passwordHash, undefined);

      const hash = await db.query<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE id = $1", [a.id]);
      assert.match(hash.rows[0]!.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

      const boxes = await db.query<{ name: string; special_use: string | null; uidvalidity: number; uidnext: number }>(
        "SELECT name, special_use, uidvalidity, uidnext FROM mailboxes WHERE account_id = $1 ORDER BY name",
        [a.id],
      );
      assert.deepEqual(
        boxes.rows.map((b) => [b.name, b.special_use]),
        [
          ["Archive", "\\Archive"],
          ["Drafts", "\\Drafts"],
          ["INBOX", null],
          ["Junk", "\\Junk"],
          ["Sent", "\\Sent"],
          ["Trash", "\\Trash"],
        ],
      );
      for (const b of boxes.rows) {
        assert.ok(b.uidvalidity > 1_600_000_000 && b.uidvalidity < 2 ** 32);
        assert.equal(b.uidnext, 1);
      }

      const unicode = await createAccount(db, { address: "Jörg@bücher.example", password: PASSWORD });
      assert.equal(unicode.address, "jörg@xn--bcher-kva.example");
      assert.equal(unicode.quotaBytes, null);
    });

    test("accounts: refusals leave nothing behind", async () => {
      await assert.rejects(createAccount(db, { address: "alice@example.com", password: PASSWORD }), AlreadyExists);
      await assert.rejects(createAccount(db, { address: "ALICE@example.com", password: PASSWORD }), AlreadyExists);
      await assert.rejects(createAccount(db, { address: "bob@nowhere.test", password: PASSWORD }), DomainNotFound);
      await assert.rejects(createAccount(db, { address: "bob@example.com", password: "short" }), InvalidInput);
      await assert.rejects(createAccount(db, { address: "bob@example.com", password: PASSWORD, quotaBytes: -1 }), InvalidInput);
      await assert.rejects(createAccount(db, { address: "bob@example.com", password: PASSWORD, quotaBytes: 1.5 }), InvalidInput);
      for (const bad of ["bob", "@example.com", "bob@", "bo b@example.com", "bob..x@example.com", ".bob@example.com", "bob\"@example.com", `${"x".repeat(65)}@example.com`]) {
        await assert.rejects(createAccount(db, { address: bad, password: PASSWORD }), InvalidInput, bad);
      }
      assert.equal(await findAccount(db, "bob@example.com"), null);
      const orphanBoxes = await db.query("SELECT 1 FROM mailboxes m LEFT JOIN accounts a ON a.id = m.account_id WHERE a.id IS NULL");
      assert.equal(orphanBoxes.rows.length, 0);
    });

    test("accounts: verify password, change it, quota, disable", async () => {
      assert.equal((await verifyPassword(db, "ALICE@example.com", PASSWORD))?.address, "alice@example.com");
      assert.equal(await verifyPassword(db, "alice@example.com", "wrong password"), null);
      assert.equal(await verifyPassword(db, "nobody@example.com", PASSWORD), null);
      assert.equal(await verifyPassword(db, "not an address", PASSWORD), null);

      const before = await getAccount(db, "alice@example.com");
      await setPassword(db, "alice@example.com", "a new password 123");
      assert.equal(await verifyPassword(db, "alice@example.com", PASSWORD), null);
      assert.ok(await verifyPassword(db, "alice@example.com", "a new password 123"));
      await assert.rejects(setPassword(db, "alice@example.com", "x"), InvalidInput);

      assert.equal((await setQuota(db, "alice@example.com", 5 * 2 ** 30)).quotaBytes, 5 * 2 ** 30);
      assert.equal((await setQuota(db, "alice@example.com", null)).quotaBytes, null);
      const disabled = await setDisabled(db, "alice@example.com", true);
      assert.equal(disabled.disabled, true);
      assert.ok(disabled.updatedAt >= before.updatedAt);
      assert.equal(await verifyPassword(db, "alice@example.com", "a new password 123"), null, "a disabled account cannot log in");
      const both = await updateAccount(db, "alice@example.com", { disabled: false, quotaBytes: 2048, password: PASSWORD });
      assert.equal(both.disabled, false);
      assert.equal(both.quotaBytes, 2048);
      assert.ok(await verifyPassword(db, "alice@example.com", PASSWORD));
      assert.equal((await updateAccount(db, "alice@example.com", {})).quotaBytes, 2048, "no changes keep the values");

      await assert.rejects(setQuota(db, "nobody@example.com", 1), NotFound);
      await assert.rejects(getAccount(db, "nobody@example.com"), NotFound);
    });

    test("accounts: list by domain with keyset pagination", async () => {
      for (const u of ["carol", "bob", "dave"]) await createAccount(db, { address: `${u}@example.com`, password: PASSWORD });
      assert.deepEqual(
        (await listAccounts(db, { domain: "EXAMPLE.com" })).map((a) => a.address),
        ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"],
      );
      assert.equal((await listAccounts(db)).length, 5);
      const page1 = await listAccounts(db, { domain: "example.com", limit: 2 });
      const page2 = await listAccounts(db, { domain: "example.com", limit: 2, after: page1.at(-1)!.address });
      assert.deepEqual(
        [...page1, ...page2].map((a) => a.localPart),
        ["alice", "bob", "carol", "dave"],
      );
      await assert.rejects(listAccounts(db, { domain: "nowhere.test" }), DomainNotFound);
    });

    test("aliases: several destinations, list, duplicates, remove", async () => {
      const a = await addAlias(db, "Sales@Example.com", "bob@example.com");
      assert.equal(a.source, "sales@example.com");
      assert.equal(a.domain, "example.com");
      await addAlias(db, "sales@example.com", "carol@example.com");
      await addAlias(db, "sales@example.com", "partner@remote.test");
      await assert.rejects(addAlias(db, "sales@example.com", "bob@example.com"), AlreadyExists);
      await assert.rejects(addAlias(db, "x@nowhere.test", "bob@example.com"), DomainNotFound);
      await assert.rejects(addAlias(db, "sales@example.com", "not-an-address"), InvalidInput);
      assert.deepEqual(
        (await listAliases(db, { domain: "example.com" })).map((x) => `${x.source}>${x.destination}`),
        ["sales@example.com>bob@example.com", "sales@example.com>carol@example.com", "sales@example.com>partner@remote.test"],
      );
      assert.equal((await listAliases(db, { source: "SALES@example.com" })).length, 3);
      assert.equal((await listAliases(db, { domain: "bücher.example" })).length, 0);
      await removeAlias(db, "sales@example.com", "partner@remote.test");
      await assert.rejects(removeAlias(db, "sales@example.com", "partner@remote.test"), NotFound);
      assert.equal((await listAliases(db)).length, 2);
    });

    test("resolveRecipient: accounts, aliases, loops, sub-addressing, catch-all, disabled, remote", async () => {
      await addDomain(db, "resolve.test");
      const ids: Record<string, number> = {};
      for (const u of ["ann", "ben", "cat", "off"]) ids[u] = (await createAccount(db, { address: `${u}@resolve.test`, password: PASSWORD })).id;
      await setDisabled(db, "off@resolve.test", true);
      const local = (...names: string[]) => names.map((n) => ({ id: ids[n]!, address: `${n}@resolve.test` }));
      const sortAccounts = (r: Awaited<ReturnType<typeof resolveRecipient>>) => {
        assert.equal(r.kind, "deliver");
        if (r.kind !== "deliver") throw new Error("unreachable");
        return { accounts: [...r.accounts].sort((x, y) => x.id - y.id), remote: [...r.remote].sort() };
      };

      assert.deepEqual(sortAccounts(await resolveRecipient(db, "ANN@Resolve.Test")), { accounts: local("ann"), remote: [] });
      assert.deepEqual(await resolveRecipient(db, "x@elsewhere.test"), { kind: "not-local-domain", domain: "elsewhere.test" });
      assert.deepEqual(await resolveRecipient(db, "nobody@resolve.test"), { kind: "unknown-user", address: "nobody@resolve.test" });
      assert.equal((await resolveRecipient(db, "not an address")).kind, "invalid-address");
      assert.deepEqual(await resolveRecipient(db, "off@resolve.test"), { kind: "disabled", address: "off@resolve.test" });

      // An alias to several accounts and a remote address, through a nested alias.
      await addAlias(db, "team@resolve.test", "ann@resolve.test");
      await addAlias(db, "team@resolve.test", "devs@resolve.test");
      await addAlias(db, "devs@resolve.test", "ben@resolve.test");
      await addAlias(db, "devs@resolve.test", "cat@resolve.test");
      await addAlias(db, "devs@resolve.test", "ext@partner.test");
      await addAlias(db, "devs@resolve.test", "off@resolve.test");
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "team@resolve.test")), { accounts: local("ann", "ben", "cat"), remote: ["ext@partner.test"] });

      // A loop ends without hanging; addresses that are accounts still receive.
      await addAlias(db, "loop1@resolve.test", "loop2@resolve.test");
      await addAlias(db, "loop2@resolve.test", "loop1@resolve.test");
      await addAlias(db, "loop2@resolve.test", "ben@resolve.test");
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "loop1@resolve.test")), { accounts: local("ben"), remote: [] });
      await addAlias(db, "ring1@resolve.test", "ring2@resolve.test");
      await addAlias(db, "ring2@resolve.test", "ring1@resolve.test");
      assert.equal((await resolveRecipient(db, "ring1@resolve.test")).kind, "unknown-user");

      // An account whose alias keeps a copy for itself and forwards one.
      await addAlias(db, "ann@resolve.test", "ann@resolve.test");
      await addAlias(db, "ann@resolve.test", "ann@home.test");
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "ann@resolve.test")), { accounts: local("ann"), remote: ["ann@home.test"] });

      // A chain longer than the depth limit stops expanding rather than recursing forever.
      for (let i = 0; i < 5; i++) await addAlias(db, `chain${i}@resolve.test`, `chain${i + 1}@resolve.test`);
      await addAlias(db, "chain5@resolve.test", "cat@resolve.test");
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "chain0@resolve.test")), { accounts: local("cat"), remote: [] });
      assert.equal((await resolveRecipient(db, "chain0@resolve.test", { maxDepth: 3 })).kind, "unknown-user");

      // Sub-addressing, then the catch-all.
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "ben+news@resolve.test")), { accounts: local("ben"), remote: [] });
      assert.equal((await resolveRecipient(db, "ben+news@resolve.test", { subaddressDelimiter: null })).kind, "unknown-user");
      await setCatchAll(db, "resolve.test", "cat@resolve.test");
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "anything@resolve.test")), { accounts: local("cat"), remote: [] });
      assert.deepEqual(sortAccounts(await resolveRecipient(db, "ben@resolve.test")), { accounts: local("ben"), remote: [] }, "an account wins over the catch-all");
      await setCatchAll(db, "resolve.test", "lost@resolve.test");
      assert.equal((await resolveRecipient(db, "anything@resolve.test")).kind, "unknown-user", "a catch-all pointing to itself does not loop");
    });

    test("delete account releases its blobs; domain removal needs force when not empty", async () => {
      const acct = await createAccount(db, { address: "gone@resolve.test", password: PASSWORD });
      const hash = "a".repeat(64);
      await db.query("INSERT INTO blobs (hash, size, refcount) VALUES ($1, 10, 2)", [hash]);
      const inbox = await db.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [acct.id]);
      await db.query("INSERT INTO messages (mailbox_id, uid, modseq, internal_date, size, blob_hash) VALUES ($1, 1, 1, now(), 10, $2)", [inbox.rows[0]!.id, hash]);
      await deleteAccount(db, "GONE@resolve.test");
      const blob = await db.query<{ refcount: number; unreferenced_at: Date | null }>("SELECT refcount, unreferenced_at FROM blobs WHERE hash = $1", [hash]);
      assert.equal(blob.rows[0]!.refcount, 1);
      assert.equal(blob.rows[0]!.unreferenced_at, null);
      assert.equal(await findAccount(db, "gone@resolve.test"), null);
      assert.equal((await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1", [acct.id])).rows.length, 0);
      await assert.rejects(deleteAccount(db, "gone@resolve.test"), NotFound);

      await assert.rejects(removeDomain(db, "resolve.test"), DomainNotEmpty);
      await removeDomain(db, "resolve.test", { force: true });
      await assert.rejects(getDomain(db, "resolve.test"), DomainNotFound);
      assert.equal((await db.query("SELECT 1 FROM accounts WHERE address LIKE '%@resolve.test'")).rows.length, 0);
      assert.equal((await db.query("SELECT 1 FROM aliases WHERE source LIKE '%@resolve.test'")).rows.length, 0);
      await addDomain(db, "empty.test");
      await removeDomain(db, "empty.test");
      await assert.rejects(removeDomain(db, "empty.test"), DomainNotFound);
    });
  });
}
