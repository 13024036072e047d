import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import type { BlobStore } from "@postline/blobstore";
import { newMailId, type MailAcceptedInput } from "@postline/events";
import type { DnsZones } from "@postline/testkit";

// A small test world on the loopback DNS server: sender.test (SPF -all, DMARC p=reject, DKIM s1)
// sending from mail.sender.test = 127.0.0.10; 127.0.0.13 listed on bl.test.
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const dkimPrivateKey = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

export const zones: DnsZones = {
  hosts: { "mail.sender.test": "127.0.0.10" },
  addresses: { "13.0.0.127.bl.test": "127.0.0.2" },
  txt: {
    "sender.test": "v=spf1 ip4:127.0.0.10 -all",
    "_dmarc.sender.test": "v=DMARC1; p=reject",
    "s1._domainkey.sender.test": `v=DKIM1; k=rsa; p=${publicKey.export({ type: "spki", format: "der" }).toString("base64")}`,
  },
};

export function message(opts: { subject?: string; from?: string; body?: string; date?: boolean } = {}): Buffer {
  const lines = [
    `From: ${opts.from ?? "Alice <alice@sender.test>"}`,
    "To: bob@example.test",
    `Subject: ${opts.subject ?? "Minutes of the meeting"}`,
    ...(opts.date === false ? [] : ["Date: Tue, 10 Mar 2026 10:00:00 +0000"]),
    `Message-ID: <${Math.random().toString(36).slice(2)}@sender.test>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
  ];
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n${opts.body ?? "Attached are the minutes.\r\n"}`);
}

export async function signed(raw: Buffer): Promise<Buffer> {
  // mailauth's runtime takes signatureData (its typings suggest the top-level form, which signs nothing);
  // signTime, because without it mailauth may emit a t= one higher than the one it signed (libs/dkim's signMessage)
  const r = await dkimSign(raw, { signTime: new Date(), signatureData: [{ signingDomain: "sender.test", selector: "s1", privateKey: dkimPrivateKey }] } as never);
  return Buffer.concat([Buffer.from(r.signatures), raw]);
}

/** Stores the message and returns its mail.received / mail.submitted event. */
export async function acceptedEvent(
  blobs: BlobStore,
  raw: Buffer,
  client: { ip: string; helo?: string; authUser?: string },
  mailFrom = "alice@sender.test",
  sessionSymbols: string[] = [],
): Promise<MailAcceptedInput & { id: string }> {
  const blob = await blobs.put(raw);
  return {
    v: 1,
    id: newMailId(),
    blob,
    envelope: { mailFrom, rcptTo: ["bob@example.test"] },
    client: { ip: client.ip, helo: client.helo ?? "mail.sender.test", tls: false, ...(client.authUser ? { authUser: client.authUser } : {}) },
    receivedAt: new Date().toISOString(),
    sessionSymbols,
  };
}
