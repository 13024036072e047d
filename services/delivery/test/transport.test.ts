import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pino } from "pino";
import { SMTPServer, type SMTPServerAddress, type SMTPServerEnvelope, type SMTPServerOptions } from "smtp-server";
import { freeSharedPort, startDnsServer, type DnsServer } from "@postline/testkit";
import { RemoteTransport, RouteResolver, type OutboundEnvelope, type RecipientOutcome, type TransportSettings } from "../src/remote/transport/index.ts";

/** Loopback addresses of the test MX hosts (all of 127/8 is local on Linux); every host listens on `port`. */
const A = { mx1: "127.0.0.21", mx2: "127.0.0.22", mx3: "127.0.0.23", implicit: "127.0.0.24", tls: "127.0.0.25", plain: "127.0.0.26", dsn: "127.0.0.27", nodsn: "127.0.0.28", reuse: "127.0.0.29", utf8: "127.0.0.30", noutf8: "127.0.0.31", rcpt: "127.0.0.32", data: "127.0.0.33", mail: "127.0.0.34", down: "127.0.0.35", busy: "127.0.0.36", spare: "127.0.0.37", idle: "127.0.0.38", small: "127.0.0.39", stream: "127.0.0.40" };

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MESSAGE = Buffer.from("From: a@sender.test\r\nTo: b@example.test\r\nSubject: hi\r\nMessage-ID: <1@sender.test>\r\n\r\nHello there.\r\n");

interface Received {
  envelope: SMTPServerEnvelope;
  secure: boolean;
  body: string;
}

interface FakeMx {
  received: Received[];
  connections: number;
  /** Connections the server saw end. */
  closed: number;
  /** Ends every open session from the server side, resolves once the server saw them closed. */
  dropConnections(): Promise<void>;
  close(): Promise<void>;
}

interface FakeMxOptions {
  /** Reply for a recipient, e.g. "550 5.1.1" → 550 with that text; undefined = accept. */
  rcpt?: (address: string) => [number, string] | undefined;
  mail?: (address: string) => [number, string] | undefined;
  data?: () => [number, string] | undefined;
  server?: Partial<SMTPServerOptions>;
}

function reply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/** A receiving MTA (smtp-server) that records what arrives and answers the codes it is given. */
async function startFakeMx(address: string, port: number, options: FakeMxOptions = {}): Promise<FakeMx> {
  const sockets = new Set<Socket>();
  const mx: FakeMx = {
    received: [],
    connections: 0,
    closed: 0,
    close: async () => undefined,
    dropConnections: async () => {
      const expected = mx.connections;
      for (const socket of sockets) socket.end();
      while (mx.closed < expected) await new Promise((r) => setTimeout(r, 10));
    },
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH"],
    hideDSN: false,
    logger: false,
    disableReverseLookup: true,
    size: 10 * 1024 * 1024,
    ...options.server,
    onConnect(_session, callback) {
      mx.connections++;
      callback();
    },
    onClose() {
      mx.closed++;
    },
    onMailFrom(from: SMTPServerAddress, _session, callback) {
      const r = options.mail?.(from.address);
      callback(r ? reply(...r) : undefined);
    },
    onRcptTo(to: SMTPServerAddress, _session, callback) {
      const r = options.rcpt?.(to.address);
      callback(r ? reply(...r) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mx.received.push({ envelope: structuredClone(session.envelope), secure: session.secure, body: Buffer.concat(chunks).toString("utf8") });
        const r = options.data?.();
        callback(r ? reply(...r) : null);
      });
    },
  });
  server.on("error", () => undefined);
  server.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  mx.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return mx;
}

const envelope = (over: Partial<OutboundEnvelope> = {}): OutboundEnvelope => ({ mailFrom: "alice@sender.test", smtpUtf8: false, body: "7BIT", size: MESSAGE.length, ...over });
const message = async (): Promise<Buffer> => MESSAGE;
const byRecipient = (outcomes: RecipientOutcome[]): Record<string, RecipientOutcome> => Object.fromEntries(outcomes.map((o) => [o.recipient, o]));

let dns: DnsServer;
let port: number;
let settings: TransportSettings;
const servers: FakeMx[] = [];

async function fakeMx(address: string, options?: FakeMxOptions): Promise<FakeMx> {
  const mx = await startFakeMx(address, port, options);
  servers.push(mx);
  return mx;
}

before(async () => {
  port = await freeSharedPort(Object.values(A));
  dns = await startDnsServer({
    hosts: {
      "mx1.pref.test": A.mx1,
      "mx2.pref.test": A.mx2,
      "mx-low.order.test": A.mx3,
      "mx-high.order.test": A.mx2,
      "implicit.test": A.implicit,
      "mx.tls.test": A.tls,
      "mx.plain.test": A.plain,
      "mx.dsn.test": A.dsn,
      "mx.nodsn.test": A.nodsn,
      "mx.reuse.test": A.reuse,
      "mx.utf8.test": A.utf8,
      "mx.noutf8.test": A.noutf8,
      "mx.rcpt.test": A.rcpt,
      "mx.data.test": A.data,
      "mx.mail.test": A.mail,
      "mx.down.test": A.down,
      "mx-busy.busy.test": A.busy,
      "mx-spare.busy.test": A.spare,
      "mx.idle.test": A.idle,
      "mx.small.test": A.small,
      "mx.stream.test": A.stream,
    },
    mx: {
      "pref.test": [
        { host: "mx2.pref.test", preference: 20 },
        { host: "mx1.pref.test", preference: 10 },
      ],
      "order.test": [
        { host: "mx-high.order.test", preference: 50 },
        { host: "mx-low.order.test", preference: 5 },
      ],
      "nullmx.test": [{ host: ".", preference: 0 }],
      "noaddress.test": ["mx.nowhere.test"],
      "tls.test": ["mx.tls.test"],
      "plain.test": ["mx.plain.test"],
      "dsn.test": ["mx.dsn.test"],
      "nodsn.test": ["mx.nodsn.test"],
      "reuse.test": ["mx.reuse.test"],
      "utf8.test": ["mx.utf8.test"],
      "noutf8.test": ["mx.noutf8.test"],
      "rcpt.test": ["mx.rcpt.test"],
      "data.test": ["mx.data.test"],
      "mail.test": ["mx.mail.test"],
      "down.test": ["mx.down.test"],
      "busy.test": [
        { host: "mx-busy.busy.test", preference: 10 },
        { host: "mx-spare.busy.test", preference: 20 },
      ],
      "idle.test": ["mx.idle.test"],
      "small.test": ["mx.small.test"],
      "stream.test": ["mx.stream.test"],
    },
  });
  settings = {
    heloName: "out.postline.test",
    port,
    dnsServers: [dns.address],
    connectTimeoutMs: 5000,
    greetingTimeoutMs: 5000,
    socketTimeoutMs: 10_000,
    idleConnectionMs: 5000,
    maxMessagesPerConnection: 100,
  };
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dns?.stop();
});

describe("RouteResolver", () => {
  test("MX hosts in preference order with their addresses; null MX; NXDOMAIN; implicit MX", async () => {
    const resolver = new RouteResolver({ dnsServers: [dns.address] });
    assert.deepEqual(await resolver.resolve("pref.test"), {
      kind: "hosts",
      hosts: [
        { name: "mx1.pref.test", preference: 10, addresses: [A.mx1] },
        { name: "mx2.pref.test", preference: 20, addresses: [A.mx2] },
      ],
    });
    assert.deepEqual(await resolver.resolve("nullmx.test"), { kind: "null-mx" });
    assert.deepEqual(await resolver.resolve("no-such-domain.test"), { kind: "no-such-domain" });
    assert.deepEqual(await resolver.resolve("implicit.test"), { kind: "hosts", hosts: [{ name: "implicit.test", preference: 0, addresses: [A.implicit] }] });
  });

  test("a DNS server that does not answer is a temporary failure (thrown), not a missing domain", async () => {
    const unreachable = `127.0.0.1:${port}`; // the SMTP port: nothing answers DNS over UDP there
    const resolver = new RouteResolver({ dnsServers: [unreachable], timeoutMs: 300, tries: 1 });
    await assert.rejects(resolver.resolve("pref.test"), /DNS MX lookup for pref\.test failed/);
    const transport = new RemoteTransport({ ...settings, dnsServers: [unreachable] }, logger, resolver);
    const [outcome] = await transport.deliver("pref.test", envelope(), [{ address: "bob@pref.test" }], message);
    assert.equal(outcome!.kind, "temporary");
    assert.equal((outcome as { status: string }).status, "4.4.3");
    await transport.close();
  });
});

describe("RemoteTransport", () => {
  let transport: RemoteTransport;
  before(() => {
    transport = new RemoteTransport(settings, logger);
  });
  after(async () => {
    await transport.close();
  });

  test("the most preferred MX refuses connections: the next one gets the message", async () => {
    const mx2 = await fakeMx(A.mx2);
    const outcomes = await transport.deliver("pref.test", envelope(), [{ address: "bob@pref.test" }], message);
    assert.equal(outcomes.length, 1);
    const [o] = outcomes;
    assert.equal(o!.kind, "delivered");
    assert.equal((o as { host: string }).host, `mx2.pref.test [${A.mx2}]`);
    assert.match((o as { reply: string }).reply, /^250 /);
    assert.equal(mx2.received.length, 1);
    assert.equal(mx2.received[0]!.body, MESSAGE.toString("utf8"));
    assert.deepEqual(
      mx2.received[0]!.envelope.rcptTo.map((r) => r.address),
      ["bob@pref.test"],
    );
    assert.equal((mx2.received[0]!.envelope.mailFrom as SMTPServerAddress).address, "alice@sender.test");
  });

  test("hosts are tried by preference, not by the order DNS lists them", async () => {
    const low = await fakeMx(A.mx3);
    const outcomes = await transport.deliver("order.test", envelope(), [{ address: "bob@order.test" }], message);
    assert.equal(outcomes[0]!.kind, "delivered");
    assert.equal((outcomes[0] as { host: string }).host, `mx-low.order.test [${A.mx3}]`);
    assert.equal(low.received.length, 1);
  });

  test("every host down: temporary 4.4.1 with the last connection error", async () => {
    const outcomes = await transport.deliver("down.test", envelope(), [{ address: "a@down.test" }, { address: "b@down.test" }], message);
    assert.deepEqual(
      outcomes.map((o) => [o.recipient, o.kind, (o as { status: string }).status]),
      [
        ["a@down.test", "temporary", "4.4.1"],
        ["b@down.test", "temporary", "4.4.1"],
      ],
    );
    assert.equal((outcomes[0] as { error: string }).error, `connection refused by mx.down.test [${A.down}]: ECONNREFUSED`);
  });

  test("null MX, NXDOMAIN and an MX host without addresses", async () => {
    const [nullMx] = await transport.deliver("nullmx.test", envelope(), [{ address: "x@nullmx.test" }], message);
    assert.deepEqual(nullMx, { recipient: "x@nullmx.test", kind: "permanent", status: "5.1.10", error: "domain nullmx.test has a null MX (RFC 7505): it accepts no mail" });
    const [nx] = await transport.deliver("no-such-domain.test", envelope(), [{ address: "x@no-such-domain.test" }], message);
    assert.equal(nx!.kind, "permanent");
    assert.equal((nx as { status: string }).status, "5.1.2");
    const [noAddress] = await transport.deliver("noaddress.test", envelope(), [{ address: "x@noaddress.test" }], message);
    assert.equal(noAddress!.kind, "temporary");
    assert.equal((noAddress as { status: string }).status, "4.4.1");
  });

  test("no MX records: the domain's own address record is the implicit MX", async () => {
    const mx = await fakeMx(A.implicit);
    const [o] = await transport.deliver("implicit.test", envelope(), [{ address: "carol@implicit.test" }], message);
    assert.equal(o!.kind, "delivered");
    assert.equal((o as { host: string }).host, `implicit.test [${A.implicit}]`);
    assert.equal(mx.received.length, 1);
  });

  test("RCPT 550 for one recipient, 451 for another, 250 for the third: one outcome each", async () => {
    const mx = await fakeMx(A.rcpt, {
      rcpt: (address) => (address.startsWith("gone@") ? [550, "5.1.1 <gone@rcpt.test>: no such user"] : address.startsWith("later@") ? [451, "4.2.0 try again later"] : undefined),
    });
    const outcomes = byRecipient(
      await transport.deliver("rcpt.test", envelope(), [{ address: "gone@rcpt.test" }, { address: "here@rcpt.test" }, { address: "later@rcpt.test" }], message),
    );
    assert.equal(outcomes["here@rcpt.test"]!.kind, "delivered");
    assert.deepEqual(outcomes["gone@rcpt.test"], { recipient: "gone@rcpt.test", kind: "permanent", status: "5.1.1", error: "550 5.1.1 <gone@rcpt.test>: no such user", host: `mx.rcpt.test [${A.rcpt}]` });
    assert.equal(outcomes["later@rcpt.test"]!.kind, "temporary");
    assert.equal((outcomes["later@rcpt.test"] as { status: string }).status, "4.2.0");
    assert.equal(mx.received.length, 1);
    assert.deepEqual(
      mx.received[0]!.envelope.rcptTo.map((r) => r.address),
      ["here@rcpt.test"],
    );

    // Every recipient refused: no message, one outcome per recipient from its own reply.
    const refused = byRecipient(await transport.deliver("rcpt.test", envelope(), [{ address: "gone@rcpt.test" }, { address: "later@rcpt.test" }], message));
    assert.equal(refused["gone@rcpt.test"]!.kind, "permanent");
    assert.equal(refused["later@rcpt.test"]!.kind, "temporary");
    assert.equal(mx.received.length, 1);
  });

  test("a host answering MAIL FROM with 4xx (without PIPELINING) is passed over for the next MX; a streamed message arrives whole", async () => {
    const busy = await fakeMx(A.busy, { mail: () => [451, "4.3.2 too busy, come back later"], server: { hidePIPELINING: true } });
    const spare = await fakeMx(A.spare, { server: { hidePIPELINING: true } });
    const big = Buffer.concat([MESSAGE, Buffer.from(".leading dot line\r\n" + "x".repeat(200_000) + "\r\n")]);
    const [o] = await transport.deliver("busy.test", envelope({ size: big.length }), [{ address: "a@busy.test" }], async () =>
      Readable.from([big.subarray(0, 1000), big.subarray(1000, 150_000), big.subarray(150_000)]),
    );
    assert.equal(o!.kind, "delivered");
    assert.equal((o as { host: string }).host, `mx-spare.busy.test [${A.spare}]`);
    assert.equal(busy.received.length, 0);
    assert.equal(spare.received.length, 1);
    assert.equal(spare.received[0]!.body, big.toString("utf8"));
  });

  test("a kept connection the server has closed is not used again: the next delivery connects anew", async () => {
    const mx = await fakeMx(A.idle);
    assert.equal((await transport.deliver("idle.test", envelope(), [{ address: "a@idle.test" }], message))[0]!.kind, "delivered");
    assert.equal(mx.connections, 1);
    // The server ends the idle session (as an MTA does after its idle timeout).
    await mx.dropConnections();
    assert.equal((await transport.deliver("idle.test", envelope(), [{ address: "b@idle.test" }], message))[0]!.kind, "delivered");
    assert.equal(mx.connections, 2);
    assert.equal(mx.received.length, 2);
  });

  test("451 after DATA: temporary for every accepted recipient; MAIL FROM 5xx: permanent for all", async () => {
    await fakeMx(A.data, { data: () => [451, "4.3.0 local error in processing"], rcpt: (a) => (a.startsWith("gone@") ? [550, "5.1.1 no such user"] : undefined) });
    const outcomes = byRecipient(await transport.deliver("data.test", envelope(), [{ address: "a@data.test" }, { address: "b@data.test" }, { address: "gone@data.test" }], message));
    for (const r of ["a@data.test", "b@data.test"]) {
      assert.equal(outcomes[r]!.kind, "temporary", r);
      assert.equal((outcomes[r] as { status: string }).status, "4.3.0");
      assert.equal((outcomes[r] as { error: string }).error, "451 4.3.0 local error in processing");
    }
    assert.equal(outcomes["gone@data.test"]!.kind, "permanent");

    await fakeMx(A.mail, { mail: () => [553, "5.7.1 sender rejected"] });
    const refused = await transport.deliver("mail.test", envelope(), [{ address: "a@mail.test" }, { address: "b@mail.test" }], message);
    assert.deepEqual(
      refused.map((o) => [o.kind, (o as { status: string }).status, (o as { error: string }).error]),
      [
        ["permanent", "5.7.1", "553 5.7.1 sender rejected"],
        ["permanent", "5.7.1", "553 5.7.1 sender rejected"],
      ],
    );
  });

  test("a message larger than the server's SIZE limit: permanent 5.3.4 without sending it", async () => {
    const mx = await fakeMx(A.small, { server: { size: 100 } });
    const [o] = await transport.deliver("small.test", envelope({ size: 5000 }), [{ address: "a@small.test" }], message);
    assert.equal(o!.kind, "permanent");
    assert.equal((o as { status: string }).status, "5.3.4");
    assert.equal(mx.received.length, 0);
  });

  test("the message stream failing mid-transfer: temporary 4.3.0, the connection is dropped, the next delivery works", async () => {
    const mx = await fakeMx(A.stream);
    const failing = async (): Promise<Readable> =>
      Readable.from(
        (async function* () {
          yield MESSAGE.subarray(0, 20);
          throw new Error("blob store read failed");
        })(),
      );
    const [o] = await transport.deliver("stream.test", envelope(), [{ address: "a@stream.test" }], failing);
    assert.equal(o!.kind, "temporary");
    assert.equal((o as { status: string }).status, "4.3.0");
    assert.match((o as { error: string }).error, /blob store read failed/);
    // openMessage itself failing (e.g. the blob is gone) is the caller's error: deliver() rejects with it.
    await assert.rejects(
      transport.deliver("stream.test", envelope(), [{ address: "c@stream.test" }], () => Promise.reject(new Error("no such blob"))),
      /no such blob/,
    );
    const [next] = await transport.deliver("stream.test", envelope(), [{ address: "b@stream.test" }], message);
    assert.equal(next!.kind, "delivered");
    assert.equal(mx.connections, 2);
    assert.deepEqual(
      mx.received.map((r) => [r.envelope.rcptTo[0]!.address, r.body]),
      [["b@stream.test", MESSAGE.toString("utf8")]],
    );
  });

  test("STARTTLS is used when offered (certificate not verified), plain SMTP when not", async () => {
    const tls = await fakeMx(A.tls);
    const plain = await fakeMx(A.plain, { server: { hideSTARTTLS: true } });
    assert.equal((await transport.deliver("tls.test", envelope(), [{ address: "a@tls.test" }], message))[0]!.kind, "delivered");
    assert.equal((await transport.deliver("plain.test", envelope(), [{ address: "a@plain.test" }], message))[0]!.kind, "delivered");
    assert.equal(tls.received[0]!.secure, true);
    assert.equal(plain.received[0]!.secure, false);
  });

  test("DSN parameters arrive: RET and ENVID on MAIL FROM, NOTIFY and ORCPT per recipient; null sender", async () => {
    const mx = await fakeMx(A.dsn);
    const outcomes = byRecipient(
      await transport.deliver(
        "dsn.test",
        envelope({ mailFrom: "", ret: "HDRS", envid: "QQ+314159=", body: "8BITMIME" }),
        [
          { address: "a@dsn.test", notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;A@dsn.test" },
          { address: "b@dsn.test", notify: ["NEVER"] },
          { address: "c@dsn.test" },
        ],
        message,
      ),
    );
    assert.equal(outcomes["a@dsn.test"]!.kind, "delivered");
    assert.equal((outcomes["a@dsn.test"] as { remoteSupportsDsn: boolean }).remoteSupportsDsn, true);
    assert.equal(mx.received.length, 1, "one transaction for all recipients");
    const env = mx.received[0]!.envelope;
    assert.equal((env.mailFrom as SMTPServerAddress).address, "");
    assert.deepEqual(env.dsn, { ret: "HDRS", envid: "QQ+314159=" });
    assert.equal(env.bodyType, "8bitmime");
    const rcpts = Object.fromEntries(env.rcptTo.map((r) => [r.address, r.dsn ?? {}]));
    assert.deepEqual(rcpts["a@dsn.test"]?.notify, ["SUCCESS", "FAILURE"]);
    assert.equal(rcpts["a@dsn.test"]?.orcpt, "rfc822;A@dsn.test");
    assert.deepEqual(rcpts["b@dsn.test"]?.notify, ["NEVER"]);
    assert.equal(rcpts["c@dsn.test"]?.notify, undefined);
    assert.equal(rcpts["c@dsn.test"]?.orcpt, undefined);

    const nodsn = await fakeMx(A.nodsn, { server: { hideDSN: true } });
    const [o] = await transport.deliver("nodsn.test", envelope({ ret: "FULL", envid: "x1" }), [{ address: "a@nodsn.test", notify: ["FAILURE"] }], message);
    assert.equal(o!.kind, "delivered");
    assert.equal((o as { remoteSupportsDsn: boolean }).remoteSupportsDsn, false);
    assert.equal(nodsn.received[0]!.envelope.rcptTo[0]!.args, false, "no DSN parameters to a server without DSN");
  });

  test("messages in sequence share one connection; concurrent deliveries get their own; the per-connection limit holds", async () => {
    const mx = await fakeMx(A.reuse);
    for (let i = 0; i < 3; i++) {
      assert.equal((await transport.deliver("reuse.test", envelope(), [{ address: `r${i}@reuse.test` }], message))[0]!.kind, "delivered");
    }
    assert.equal(mx.received.length, 3);
    assert.equal(mx.connections, 1);

    // Each delivery opens its message only once it holds a connection: neither goes on until both
    // hold one, so they are really in flight together (or 5 s pass, and the count below tells).
    let holding = 0;
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    const together = async () => {
      if (++holding === 2) release();
      await Promise.race([both, new Promise((resolve) => setTimeout(resolve, 5000))]);
      return message();
    };
    const results = await Promise.all([0, 1].map((i) => transport.deliver("reuse.test", envelope(), [{ address: `c${i}@reuse.test` }], together)));
    assert.deepEqual(
      results.map((r) => r[0]!.kind),
      ["delivered", "delivered"],
    );
    assert.equal(mx.received.length, 5);
    assert.equal(mx.connections, 2, "the second concurrent delivery opened its own connection");

    const limited = new RemoteTransport({ ...settings, maxMessagesPerConnection: 1 }, logger);
    for (let i = 0; i < 2; i++) await limited.deliver("reuse.test", envelope(), [{ address: `l${i}@reuse.test` }], message);
    await limited.close();
    assert.equal(mx.received.length, 7);
    assert.equal(mx.connections, 4, "one connection per message with maxMessagesPerConnection 1");
  });

  test("SMTPUTF8: a UTF-8 recipient goes with SMTPUTF8; a server without it refuses it permanently (5.6.7)", async () => {
    const mx = await fakeMx(A.utf8);
    const [o] = await transport.deliver("utf8.test", envelope(), [{ address: "jörg@utf8.test", notify: ["FAILURE"], orcpt: "rfc822;jörg@utf8.test" }], message);
    assert.equal(o!.kind, "delivered");
    assert.equal(mx.received[0]!.envelope.smtpUtf8, true);
    assert.equal(mx.received[0]!.envelope.rcptTo[0]!.address, "jörg@utf8.test");
    assert.equal(mx.received[0]!.envelope.rcptTo[0]!.dsn?.orcpt, "utf-8;jörg@utf8.test");

    // ASCII addresses but UTF-8 headers (envelope.smtpUtf8): SMTPUTF8 still goes on MAIL FROM.
    await transport.deliver("utf8.test", envelope({ smtpUtf8: true }), [{ address: "plain@utf8.test" }], message);
    assert.equal(mx.received[1]!.envelope.smtpUtf8, true);

    const old = await fakeMx(A.noutf8, { server: { hideSMTPUTF8: true } });
    const list = await transport.deliver("noutf8.test", envelope(), [{ address: "joerg@noutf8.test" }, { address: "jörg@noutf8.test" }], message);
    assert.deepEqual(
      list.map((o) => o.recipient),
      ["joerg@noutf8.test", "jörg@noutf8.test"],
      "outcomes in the order of the recipients",
    );
    const outcomes = byRecipient(list);
    assert.equal(outcomes["jörg@noutf8.test"]!.kind, "permanent");
    assert.equal((outcomes["jörg@noutf8.test"] as { status: string }).status, "5.6.7");
    assert.equal(outcomes["joerg@noutf8.test"]!.kind, "delivered");
    assert.deepEqual(
      old.received.map((r) => r.envelope.rcptTo.map((t) => t.address)),
      [["joerg@noutf8.test"]],
    );
  });
});
