import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { generateCommands, type GeneratedCommand } from "../../services/imap-pop3/test/protocol-fuzz-input.ts";
import { seedMailbox, startImapInstallation, type ImapInstallation } from "./support/mail-clients.ts";
import { generateMessage } from "./support/messages.ts";
import { RawImap } from "./support/raw-imap.ts";

// Generated input against the running imap-pop3 process (cluster mode, implicit TLS): valid
// commands, mutations of them (truncated, oversized and lying literals, unbalanced parentheses,
// flipped octets, very long lines), token soups and random bytes — the service's own seeded
// generator — sent over an authenticated session with INBOX selected. After each input a NOOP
// probe must be answered: the server never hangs. Every intact command gets its tagged reply unless
// the server said BYE and closed. The process must still be running at the end, and a fresh session
// must work.
const USER = { address: "fuzz@example.test", password: "fuzz-password-12" };
const SEEDS = [11, 12, 13];
const PER_SEED = 150;
const PROBE_TIMEOUT_MS = 2_000;

let install: ImapInstallation;

before(async () => {
  install = await startImapInstallation({ accounts: [USER], env: { POSTLINE_IMAP_MAX_BAD_COMMANDS: "200" } });
  await seedMailbox(install.database.db, install.blobs, USER.address, "INBOX", Array.from({ length: 20 }, (_, i) => generateMessage(i + 1, 3)));
});
after(async () => {
  await install?.stop();
});

async function session(): Promise<RawImap> {
  const c = await RawImap.connect({ port: install.services[0]!.imaps, tls: "implicit", ca: install.cert.cert });
  const login = await c.command(`LOGIN ${USER.address} ${USER.password}`);
  assert.equal(login.status, "OK", login.text);
  const select = await c.command("SELECT INBOX");
  assert.equal(select.status, "OK", select.text);
  return c;
}

/** The tag of an input whose framing is intact (a valid command), else undefined. */
function tagOf(input: GeneratedCommand): string | undefined {
  if (input.kind !== "valid") return undefined;
  return /^([^ ]+) /.exec(input.bytes.toString("latin1"))?.[1];
}

/** The size of the last literal the input announces (what the server may still be waiting for). */
function lastLiteral(bytes: Buffer): number {
  const all = [...bytes.toString("latin1").matchAll(/~?\{(\d+)\+?\}\r\n/g)];
  return all.length ? Number(all[all.length - 1]![1]) : 0;
}

interface Outcome {
  answered: number;
  byes: number;
  unanswered: string[];
}

async function fuzz(seed: number): Promise<Outcome> {
  const inputs = generateCommands(seed, PER_SEED);
  let c = await session();
  const outcome: Outcome = { answered: 0, byes: 0, unanswered: [] };
  let probe = 0;
  for (const [i, input] of inputs.entries()) {
    const text = input.bytes.toString("latin1");
    const tag = tagOf(input);
    const literal = lastLiteral(input.bytes);
    const isIdle = tag !== undefined && /^[^ ]+ IDLE\r\n$/i.test(text);
    const tagged = new Set<string>();
    let sawBye = false;
    let probeAnswered: string | undefined;
    let isClosed = false;
    const session_ = c;
    void session_.closed.then(() => (isClosed = true));
    const unsubscribe = session_.subscribe((r) => {
      if (/^\* BYE/i.test(r.text)) sawBye = true;
      const m = /^([^ *+][^ ]*) (OK|NO|BAD)\b/i.exec(r.text);
      if (m) {
        tagged.add(m[1]!);
        if (m[1]!.startsWith(`P${seed}x${i}x`)) probeAnswered = m[1];
      }
      // A continuation: IDLE ends with DONE, an AUTHENTICATE exchange is cancelled with `*`; a
      // literal the server asked for gets its octets from the probe's filler.
      if (r.text.startsWith("+")) {
        if (isIdle) session_.write("DONE\r\n");
        else if (literal === 0) session_.write("*\r\n");
      }
    });
    const send = (b: Buffer) => {
      if (!isClosed && !sawBye) session_.write(b);
    };
    send(input.bytes);
    // Probes: the first ends a truncated line and asks NOOP; later ones first send the octets of
    // the literal the input announced, in case the server is still reading it.
    for (let attempt = 0; attempt < 5 && !probeAnswered && !isClosed; attempt++) {
      const filler = attempt === 0 ? Buffer.alloc(0) : Buffer.alloc(Math.min(literal, 64 << 20), 0x78);
      send(Buffer.concat([filler, Buffer.from(`\r\nP${seed}x${i}x${probe++} NOOP\r\n`)]));
      const deadline = Date.now() + PROBE_TIMEOUT_MS;
      while (!probeAnswered && !isClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    unsubscribe();
    if (probeAnswered) {
      outcome.answered++;
      if (tag && !tagged.has(tag) && !sawBye) outcome.unanswered.push(`${tag}: ${JSON.stringify(text.slice(0, 200))}`);
      continue;
    }
    // No probe answer: only a BYE and a closed connection excuse it.
    if (!isClosed) await Promise.race([session_.closed, new Promise((r) => setTimeout(r, 2_000))]);
    assert.ok(isClosed, `input ${i} of seed ${seed} (${input.kind}) hung the session: ${JSON.stringify(text.slice(0, 300))}`);
    assert.ok(sawBye, `input ${i} of seed ${seed} (${input.kind}): connection closed without BYE: ${JSON.stringify(text.slice(0, 300))}`);
    outcome.byes++;
    assert.equal(install.services[0]!.process.child.exitCode, null, "the process is running");
    c = await session();
  }
  await c.logout();
  return outcome;
}

for (const seed of SEEDS) {
  test(`generated input, seed ${seed}: no crash, no hang, every intact command answered`, async (t) => {
    const outcome = await fuzz(seed);
    t.diagnostic(`${outcome.answered} inputs probed and answered, ${outcome.byes} sessions ended with BYE`);
    assert.deepEqual(outcome.unanswered, [], "intact commands without a tagged reply");
    assert.equal(install.services[0]!.process.child.exitCode, null, "the process is running");
    assert.equal(install.services[0]!.process.child.signalCode, null);
  });
}

test("a line far over the limit gets BAD or BYE, never a crash; then a fresh session works", async () => {
  const c = await session();
  const closed = c.closed.then(() => "closed" as const);
  c.write(Buffer.concat([Buffer.from("L1 SEARCH TEXT "), Buffer.alloc(4 << 20, 0x61), Buffer.from("\r\n")]));
  const reply = await Promise.race([c.waitFor((r) => /^(L1 BAD|\* BYE)/i.test(r.text), 20_000).then((r) => r.text), closed]);
  assert.ok(reply === "closed" ? c.unsolicited.some((u) => /^\* BYE/i.test(u.text)) : /^(L1 BAD|\* BYE)/i.test(reply), `reply: ${reply}`);
  c.destroy();

  const fresh = await session();
  const fetch = await fresh.command("UID FETCH 1:* (UID FLAGS RFC822.SIZE)");
  assert.equal(fetch.status, "OK", fetch.text);
  assert.ok(fetch.untagged.filter((u) => / FETCH /.test(u.text)).length > 0);
  await fresh.logout();
  assert.equal(install.services[0]!.process.child.exitCode, null, "the process is running");
});
