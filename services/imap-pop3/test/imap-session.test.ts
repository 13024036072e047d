import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, type ImapTestServer } from "./harness.ts";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const capsOf = (line: string) => /CAPABILITY ([^\]]+)/.exec(line)?.[1]?.split(" ") ?? [];

describe("IMAP session", () => {
  let server: ImapTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server?.close();
  });

  test("greeting and capabilities before TLS: STARTTLS and LOGINDISABLED, no AUTH=PLAIN", async () => {
    const { client, greeting } = await rawClient(server.ports.imap);
    try {
      assert.match(greeting, /^\* OK \[CAPABILITY .*\] Postline IMAP ready$/);
      const greetCaps = capsOf(greeting);
      for (const c of ["IMAP4rev1", "IMAP4rev2", "STARTTLS", "LOGINDISABLED", "SASL-IR", "LITERAL+"]) assert.ok(greetCaps.includes(c), c);
      assert.ok(!greetCaps.includes("AUTH=PLAIN"));
      const r = await client.command("CAPABILITY");
      assert.match(r.tagged, /^T1 OK/);
      const caps = r.untagged[0]!.replace(/^\* CAPABILITY /, "").split(" ");
      assert.deepEqual(caps, greetCaps);
      const login = await client.command(`LOGIN ${server.alice.address} "${server.alice.password}"`);
      assert.match(login.tagged, /^T2 NO \[PRIVACYREQUIRED\]/);
      const auth = await client.command(`AUTHENTICATE PLAIN ${b64(`\0${server.alice.address}\0${server.alice.password}`)}`);
      assert.match(auth.tagged, /^T3 NO \[PRIVACYREQUIRED\]/);
      const list = await client.command('LIST "" "*"');
      assert.match(list.tagged, /^T4 BAD/);
    } finally {
      client.close();
    }
  });

  test("before login a large literal is refused without a continuation; after login APPEND takes one", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      client.write("big LOGIN {20000}\r\n");
      assert.match((await client.readLine()) ?? "", /^big BAD \[TOOBIG\]/);
      await client.startTls();
      assert.match((await client.command(`LOGIN ${server.alice.address} "${server.alice.password}"`)).tagged, /OK/);
      const message = `Subject: big\r\n\r\n${"x".repeat(20_000)}\r\n`;
      client.write(`ap APPEND INBOX {${Buffer.byteLength(message)}}\r\n`);
      assert.match((await client.readLine()) ?? "", /^\+ /);
      client.write(`${message}\r\n`);
      assert.match((await client.readTagged("ap")).tagged, /^ap OK \[APPENDUID/);
    } finally {
      client.close();
    }
  });

  test("after STARTTLS: AUTH=PLAIN, no STARTTLS; after login the full list", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      const tls = await client.startTls();
      assert.match(tls.tagged, /OK/);
      const r = await client.command("CAPABILITY");
      const caps = r.untagged[0]!.split(" ");
      assert.ok(caps.includes("AUTH=PLAIN"));
      assert.ok(!caps.includes("STARTTLS"));
      assert.ok(!caps.includes("LOGINDISABLED"));
      const again = await client.command("STARTTLS");
      assert.match(again.tagged, /BAD/);
      const login = await client.command(`LOGIN ${server.alice.address} "${server.alice.password}"`);
      assert.match(login.tagged, /OK \[CAPABILITY /);
      const after = capsOf(login.tagged);
      for (const c of ["IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "NAMESPACE", "LIST-STATUS", "ESEARCH", "QUOTA", "STATUS=SIZE", "APPENDLIMIT=52428800"]) {
        assert.ok(after.includes(c), c);
      }
      const r2 = await client.command("CAPABILITY");
      assert.deepEqual(r2.untagged[0]!.replace(/^\* CAPABILITY /, "").split(" "), after);
      assert.match((await client.command("LOGIN x y")).tagged, /BAD/);
    } finally {
      client.close();
    }
  });

  test("implicit TLS port greets with AUTH=PLAIN", async () => {
    const { client, greeting } = await rawClient(server.ports.imaps, { tls: true });
    try {
      assert.ok(capsOf(greeting).includes("AUTH=PLAIN"));
      assert.ok(!capsOf(greeting).includes("STARTTLS"));
      const r = await client.command(`AUTHENTICATE PLAIN ${b64(`\0${server.bob.address}\0${server.bob.password}`)}`);
      assert.match(r.tagged, /^T1 OK/);
    } finally {
      client.close();
    }
  });

  test("AUTHENTICATE PLAIN with SASL-IR, with a continuation, cancelled, and a bad password", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.startTls();
      client.write("a1 AUTHENTICATE PLAIN\r\n");
      assert.equal(await client.readLine(), "+ ");
      client.write("*\r\n");
      assert.match((await client.readTagged("a1")).tagged, /^a1 BAD/);

      const bad = await client.command(`AUTHENTICATE PLAIN ${b64(`\0${server.alice.address}\0wrong password`)}`);
      assert.match(bad.tagged, /NO \[AUTHENTICATIONFAILED\]/);
      const badLogin = await client.command(`LOGIN ${server.alice.address} "also wrong"`);
      assert.match(badLogin.tagged, /NO \[AUTHENTICATIONFAILED\]/);

      client.write("a2 AUTHENTICATE PLAIN\r\n");
      assert.equal(await client.readLine(), "+ ");
      client.write(`${b64(`\0${server.alice.address}\0${server.alice.password}`)}\r\n`);
      const ok = await client.readTagged("a2");
      assert.match(ok.tagged, /^a2 OK \[CAPABILITY /);
      const ns = await client.command("NAMESPACE");
      assert.deepEqual(ns.untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
    } finally {
      client.close();
    }
  });

  test("too many failed logins end the session with BYE", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.startTls();
      for (let i = 0; i < 2; i++) assert.match((await client.command(`LOGIN nobody@example.test "wrong password ${i}"`)).tagged, /AUTHENTICATIONFAILED/);
      const third = await client.command(`LOGIN nobody@example.test "wrong password 3"`);
      assert.match(third.tagged, /NO/);
      assert.match((await client.readLine()) ?? "", /^\* BYE/);
      assert.equal(await client.readLine(), null);
    } finally {
      client.close();
    }
  });

  test("pipelined commands are answered in order, untagged before their tagged reply", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.loginTls(server.alice);
      client.write('p1 NOOP\r\np2 STATUS INBOX (MESSAGES)\r\np3 LIST "" "Sent"\r\np4 CAPABILITY\r\np5 ID NIL\r\n');
      const seen: string[] = [];
      for (const tag of ["p1", "p2", "p3", "p4", "p5"]) {
        const r = await client.readTagged(tag);
        assert.match(r.tagged, new RegExp(`^${tag} OK`));
        seen.push(tag + ":" + r.untagged.map((u) => u.split(" ")[1]).join(","));
      }
      assert.deepEqual(seen, ["p1:", "p2:STATUS", "p3:LIST", "p4:CAPABILITY", "p5:ID"]);
      const metrics = await server.registry.metrics();
      assert.match(metrics, /postline_imap_commands_total\{command="STATUS",status="OK"\} [1-9]/);
      assert.match(metrics, /postline_imap_command_seconds_count\{command="LIST"\} [1-9]/);
      assert.match(metrics, /postline_imap_auth_failures_total\{reason="invalid"\} [1-9]/);
    } finally {
      client.close();
    }
  });

  test("garbage gets BAD and the session survives; ENABLE and ID", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      client.write("\r\n");
      client.write("this is not imap at all\r\n");
      client.write("x1 FROBNICATE now\r\n");
      client.write("x2 FETCH\r\n");
      // The empty line is skipped (a stray line end between commands); the rest get BAD.
      const lines = [await client.readLine(), await client.readLine(), await client.readLine()];
      assert.equal(lines.filter((l) => / BAD /.test(l ?? "")).length, 3, JSON.stringify(lines));
      assert.ok(lines.some((l) => l!.startsWith("x1 BAD")));
      assert.ok(lines.some((l) => l!.startsWith("x2 BAD")));
      await client.loginTls(server.alice);
      const en = await client.command("ENABLE QRESYNC IMAP4rev2 X-UNKNOWN");
      assert.deepEqual(en.untagged, ["* ENABLED CONDSTORE QRESYNC IMAP4rev2"]);
      assert.match(en.tagged, /OK/);
      const id = await client.command('ID ("name" "test-client")');
      assert.match(id.untagged[0]!, /^\* ID \("name" "Postline" "version" "[^"]+"/);
      assert.match((await client.command("FETCH 1 FLAGS")).tagged, /BAD/);
      assert.match((await client.command("SELECT INBOX")).tagged, /OK/);
      assert.match((await client.command("ENABLE CONDSTORE")).tagged, /BAD/);
      assert.match((await client.command("LOGOUT")).tagged, /OK/);
    } finally {
      client.close();
    }
  });

  test("too many BAD commands close the session", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      for (let i = 0; i < 25; i++) client.write(`b${i} NONSENSE\r\n`);
      const lines: string[] = [];
      for (;;) {
        const l = await client.readLine();
        if (l === null) break;
        lines.push(l);
      }
      assert.ok(lines.some((l) => /^\* BYE Too many invalid commands/.test(l)));
      assert.equal(lines.filter((l) => / BAD /.test(l)).length, 20);
    } finally {
      client.close();
    }
  });

  test("LOGOUT: BYE then OK, then the server closes", async () => {
    const { client } = await rawClient(server.ports.imap);
    const r = await client.command("LOGOUT");
    assert.deepEqual(r.untagged, ["* BYE Postline IMAP logging out"]);
    assert.match(r.tagged, /^T1 OK/);
    assert.equal(await client.readLine(), null);
  });
});
