import { generateKeyPairSync } from "node:crypto";
import { Readable } from "node:stream";
import { dkimSign, sealMessage } from "mailauth";
import type { DnsZones } from "@postline/testkit";

/** A real RSA key pair and the DKIM TXT record publishing it. */
export function dkimKey(bits = 2048): { privateKey: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const spki = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), record: `v=DKIM1; k=rsa; p=${spki}` };
}

export const senderKey = dkimKey();
export const forwarderKey = dkimKey();

/** Client addresses of the test world. */
export const ip = {
  /** mail.sender.test: in every SPF record below, PTR forward-confirmed. */
  sender: "127.0.0.10",
  /** PTR liar.test, which has no A record. */
  unconfirmed: "127.0.0.11",
  /** No PTR at all. */
  noPtr: "127.0.0.12",
  /** Listed on bl.test. */
  listed: "127.0.0.13",
  /** forwarder.test (ARC sealer), forward-confirmed, in no SPF record. */
  forwarder: "127.0.0.20",
};

const spf = (all: string) => `v=spf1 ip4:${ip.sender} ${all}`;

export const zones: DnsZones = {
  hosts: { "mail.sender.test": ip.sender, "mail.forwarder.test": ip.forwarder, "mail.listed.test": ip.listed },
  ptr: { [ip.unconfirmed]: "liar.test" },
  addresses: { "13.0.0.127.bl.test": "127.0.0.2" },
  txt: {
    // p=reject
    "sender.test": spf("-all"),
    "_dmarc.sender.test": "v=DMARC1; p=reject",
    "s1._domainkey.sender.test": senderKey.record,
    // p=quarantine
    "quarantine.test": spf("-all"),
    "_dmarc.quarantine.test": "v=DMARC1; p=quarantine",
    "s1._domainkey.quarantine.test": senderKey.record,
    // p=none
    "relaxed.test": spf("-all"),
    "_dmarc.relaxed.test": "v=DMARC1; p=none",
    // softfail, no DMARC
    "soft.test": spf("~all"),
    // ARC sealer
    "arc._domainkey.forwarder.test": forwarderKey.record,
    "forwarder.test": `v=spf1 ip4:${ip.forwarder} -all`,
  },
  mx: { "example.test": "mx.example.test" },
};

export interface MessageParts {
  from?: string | null;
  to?: string;
  subject?: string;
  date?: string | null;
  messageId?: string | null;
  replyTo?: string;
  extraHeaders?: string[];
  /** Full MIME body with its own Content-Type header line(s); default a text/plain body. */
  mime?: { contentType: string; body: string };
}

/** A message with CRLF line ends; null removes a header. */
export function message(parts: MessageParts = {}): Buffer {
  const headers: string[] = [];
  const from = parts.from === undefined ? "Alice <alice@sender.test>" : parts.from;
  if (from !== null) headers.push(`From: ${from}`);
  headers.push(`To: ${parts.to ?? "bob@example.test"}`);
  headers.push(`Subject: ${parts.subject ?? "Lunch on Thursday"}`);
  const date = parts.date === undefined ? "Tue, 10 Mar 2026 10:00:00 +0000" : parts.date;
  if (date !== null) headers.push(`Date: ${date}`);
  const messageId = parts.messageId === undefined ? `<${Math.random().toString(36).slice(2)}@sender.test>` : parts.messageId;
  if (messageId !== null) headers.push(`Message-ID: ${messageId}`);
  if (parts.replyTo) headers.push(`Reply-To: ${parts.replyTo}`);
  headers.push("MIME-Version: 1.0", ...(parts.extraHeaders ?? []));
  const mime = parts.mime ?? { contentType: "text/plain; charset=utf-8", body: "Shall we meet at noon?\r\nAlice\r\n" };
  headers.push(`Content-Type: ${mime.contentType}`);
  return Buffer.from(`${headers.join("\r\n")}\r\n\r\n${mime.body}`);
}

export async function signed(raw: Buffer, domain = "sender.test", key = senderKey): Promise<Buffer> {
  // the runtime takes signatureData (its typings suggest the top-level form, which signs nothing);
  // signTime, because without it mailauth may emit a t= one higher than the one it signed (libs/dkim's signMessage)
  const result = await dkimSign(raw, { signTime: new Date(), signatureData: [{ signingDomain: domain, selector: "s1", privateKey: key.privateKey }] } as never);
  if (result.errors.length > 0) throw result.errors[0];
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

/** An ARC set by forwarder.test (as a forwarder that verified the original would add). */
export async function arcSealed(raw: Buffer, authResults: string): Promise<Buffer> {
  // authResults and cv are read by the runtime though this version's typings omit them
  const seal = { signingDomain: "forwarder.test", selector: "arc", privateKey: forwarderKey.privateKey, authResults, cv: "none" };
  const headers = await sealMessage(raw, seal);
  return Buffer.concat([headers, raw]);
}

export function multipart(boundary: string, parts: Array<{ headers: string[]; body: string }>): { contentType: string; body: string } {
  const body = parts.map((p) => `--${boundary}\r\n${p.headers.join("\r\n")}\r\n\r\n${p.body}\r\n`).join("") + `--${boundary}--\r\n`;
  return { contentType: `multipart/mixed; boundary="${boundary}"`, body };
}

export const streamOf = (raw: Buffer) => async () => Readable.from([raw]);
