import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openDb } from "@postline/db";
import { corpus } from "../../../libs/antispam/test/bayes-corpus.ts";
import { messagesAt } from "../src/commands/spam-train.ts";
import { json, runCli } from "./run-cli.ts";

// `postline spam train` in standalone mode (PGlite under POSTLINE_DATA_DIR) on real files: a
// Maildir, an mbox, a directory of files and a single file, from the SpamAssassin corpus.

const dataDir = mkdtempSync(join(tmpdir(), "postline-spam-train-"));
const files = mkdtempSync(join(tmpdir(), "postline-spam-train-files-"));
const env = { POSTLINE_DATA_DIR: dataDir };

/** A corpus message ending in exactly one newline (what an mbox round trip gives back). */
const normalized = (b: Buffer) => Buffer.from(`${b.toString("latin1").replace(/\n+$/, "")}\n`, "latin1");
const spam = corpus("spam-1", 5).map(normalized);
const ham = corpus("easy-ham-1", 5).map(normalized);
// A ham whose body has a line starting with "From ": escaped in the mbox, restored when split
const fromLine = Buffer.from(
  "From: Carol <carol@example.org>\nTo: team@example.org\nSubject: minutes\nDate: Tue, 7 May 2024 10:00:00 +0000\nMessage-ID: <m1@example.org>\n\nHello,\nFrom the start of the meeting we agreed.\n>From a quote.\n",
  "latin1",
);

before(async () => {
  assert.equal((await runCli(["migrate"], env)).code, 0);
  assert.equal((await runCli(["domain", "add", "example.com"], env)).code, 0);
  assert.equal((await runCli(["user", "add", "alice@example.com", "--password-stdin"], env, "alices secret password\n")).code, 0);
  // Maildir: 3 in cur/, 2 in new/, a tmp/ that is not read
  for (const d of ["cur", "new", "tmp"]) mkdirSync(join(files, "maildir", d), { recursive: true });
  spam.forEach((m, i) => writeFileSync(join(files, "maildir", i < 3 ? "cur" : "new", `${i}.host:2,S`), m));
  writeFileSync(join(files, "maildir", "tmp", "partial"), "not a message");
  // mbox of 3 hams (mboxrd: ">From " escaped)
  const escape = (m: Buffer) => m.toString("latin1").replace(/^(>*From )/gm, ">$1");
  const mbox = [ham[0]!, ham[1]!, fromLine].map((m) => `From sender@example.org Tue May  7 10:00:00 2024\n${escape(m)}\n`).join("");
  writeFileSync(join(files, "ham.mbox"), mbox, "latin1");
  // a directory of 3 files
  mkdirSync(join(files, "dir"));
  [ham[2]!, ham[3]!, ham[4]!].forEach((m, i) => writeFileSync(join(files, "dir", `${i}.eml`), m));
  writeFileSync(join(files, "single.eml"), fromLine);
});

after(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

test("reads Maildirs, mboxes (unescaping >From) and directories", () => {
  assert.equal(messagesAt(join(files, "maildir")).length, 5);
  const fromMbox = messagesAt(join(files, "ham.mbox"));
  assert.equal(fromMbox.length, 3);
  assert.deepEqual(fromMbox[0], ham[0]);
  assert.deepEqual(fromMbox[2], fromLine, "the original bytes: From restored, >From kept as one >");
  assert.equal(messagesAt(join(files, "dir")).length, 3);
});

test("postline spam train: learns the global model, counts nothing twice, relearns corrections", async () => {
  type Counts = { learned: number; relearned: number; already: number };
  type Result = { model: string; spam: Counts; ham: Counts; totals: { spam: number; ham: number; tokens: number } };
  const first = json<Result>(await runCli(["--json", "spam", "train", "--spam", join(files, "maildir"), "--ham", join(files, "ham.mbox"), "--ham", join(files, "dir")], env));
  assert.equal(first.model, "global");
  assert.deepEqual(first.spam, { learned: 5, relearned: 0, already: 0 });
  assert.deepEqual(first.ham, { learned: 6, relearned: 0, already: 0 });
  assert.equal(first.totals.spam, 5);
  assert.equal(first.totals.ham, 6);
  assert.ok(first.totals.tokens > 100);

  // the same message as a single file: the same key (its bytes) as in the mbox → already
  const again = json<Result>(await runCli(["--json", "spam", "train", "--ham", join(files, "single.eml"), "--spam", join(files, "maildir")], env));
  assert.deepEqual(again.ham, { learned: 0, relearned: 0, already: 1 });
  assert.deepEqual(again.spam, { learned: 0, relearned: 0, already: 5 });

  // the mbox was spam after all: a correction
  const corrected = await runCli(["spam", "train", "--spam", join(files, "ham.mbox")], env);
  assert.equal(corrected.code, 0, corrected.stderr);
  assert.match(corrected.stdout, /^spam\s+0\s+3\s+0$/m);
  assert.match(corrected.stdout, /global model: 8 spam, 3 ham/);
});

test("postline spam train --account trains that account's model only", async () => {
  const r = json<{ model: string; spam: { learned: number }; totals: { spam: number; ham: number } }>(
    await runCli(["--json", "spam", "train", "--account", "Alice@example.com", "--spam", join(files, "single.eml")], env),
  );
  assert.equal(r.model, "alice@example.com");
  assert.equal(r.spam.learned, 1);
  assert.deepEqual([r.totals.spam, r.totals.ham], [1, 0]);
  const unknown = await runCli(["spam", "train", "--account", "nobody@example.com", "--spam", join(files, "single.eml")], env);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no account nobody@example.com/);
  const missing = await runCli(["spam", "train", "--spam", join(files, "does-not-exist")], env);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cannot read/);
});

test("postline spam expire: rare tokens not learned for --days go, records after --record-days; bad numbers refused", async () => {
  type Result = { models: number; tokens: number; records: number };
  const nothing = json<Result>(await runCli(["--json", "spam", "expire"], env));
  assert.deepEqual(nothing, { models: 0, tokens: 0, records: 0 }, "everything was learned just now");
  // Age the global model by 200 days (the CLI is not running, so the data directory is free)
  const db = await openDb({ kind: "pglite", dataDir: join(dataDir, "db") });
  let rare: number;
  try {
    await db.query("UPDATE bayes_tokens SET learned_at = now() - interval '200 days' FROM bayes_models m WHERE m.id = model_id AND m.account_id IS NULL");
    await db.query("UPDATE bayes_learned SET learned_at = now() - interval '200 days' FROM bayes_models m WHERE m.id = model_id AND m.account_id IS NULL");
    const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM bayes_tokens t JOIN bayes_models m ON m.id = t.model_id WHERE m.account_id IS NULL AND t.nspam + t.nham <= 1");
    rare = r.rows[0]!.n;
  } finally {
    await db.close();
  }
  assert.ok(rare > 100);
  const kept = json<Result>(await runCli(["--json", "spam", "expire", "--days", "365", "--record-days", "0"], env));
  assert.deepEqual(kept, { models: 0, tokens: 0, records: 0 }, "younger than --days");
  const r = await runCli(["spam", "expire", "--record-days", "100"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `expired ${rare} tokens and 11 learned-message records in 1 model\n`);
  const bad = await runCli(["spam", "expire", "--days", "-1"], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--days takes a whole number/);
});
