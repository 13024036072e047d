import { createHash } from "node:crypto";

/**
 * Deterministic, realistic messages of 2–20 KB for mailbox tests and the IMAP benchmark: plain
 * text, multipart/alternative (text + HTML, quoted-printable), and multipart/mixed with a base64
 * attachment; folded headers, an encoded-word subject, CRLF line endings throughout.
 */
export function generateMessage(i: number, seed = 1): Buffer {
  const rnd = prng(seed * 1_000_003 + i);
  const target = 2048 + Math.floor(rnd() * 15 * 1024);
  const names = ["Alice Martin", "Bob Kowalski", "Chloé Durand", "Dmitri Ivanov", "Eve Nakamura", "Farid Haddad"];
  const from = names[Math.floor(rnd() * names.length)]!;
  const date = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000 + Math.floor(rnd() * 3_600_000));
  const subject = i % 7 === 0 ? `=?UTF-8?B?${Buffer.from(`Réunion n°${i} — ordre du jour`).toString("base64")}?=` : `Quarterly report ${i}: figures and notes`;
  const id = createHash("sha1").update(`${seed}/${i}`).digest("hex").slice(0, 16);
  const header = [
    `Return-Path: <sender${i % 13}@example.org>`,
    `Received: from mail.example.org (mail.example.org [192.0.2.${i % 250}])`,
    `\tby mx.example.test with ESMTPS id ${id}`,
    `\tfor <bench@example.test>; ${date.toUTCString().replace("GMT", "+0000")}`,
    `From: "${from}" <${from.split(" ")[0]!.toLowerCase().normalize("NFD").replace(/[^a-z]/g, "")}@example.org>`,
    `To: Bench User <bench@example.test>`,
    ...(i % 3 === 0 ? [`Cc: team@example.test, "Ops" <ops@example.test>`] : []),
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}.${i}@example.org>`,
    `MIME-Version: 1.0`,
  ];
  const kind = i % 3;
  let body: string;
  const words = (n: number) => {
    const out: string[] = [];
    let line = "";
    for (let k = 0; k < n; k++) {
      const w = LOREM[Math.floor(rnd() * LOREM.length)]!;
      if (line.length + w.length > 72) {
        out.push(line);
        line = "";
      }
      line += (line ? " " : "") + w;
    }
    if (line) out.push(line);
    return out.join("\r\n");
  };
  const textSize = Math.max(600, Math.floor(target * (kind === 2 ? 0.25 : 0.55)));
  const text = fill(words, textSize);
  if (kind === 0) {
    header.push("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit");
    body = `${fill(words, target - 600)}\r\n`;
  } else if (kind === 1) {
    const b = `alt-${id}`;
    header.push(`Content-Type: multipart/alternative;\r\n\tboundary="${b}"`);
    const html = `<html><body><p>${text.replace(/\r\n\r\n/g, "</p><p>").replace(/=/g, "=3D")}</p></body></html>`;
    body = [
      `--${b}`,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      text,
      `--${b}`,
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      html.match(/.{1,75}/g)!.join("=\r\n"),
      `--${b}--`,
      "",
    ].join("\r\n");
  } else {
    const b = `mixed-${id}`;
    header.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    const attachment = Buffer.alloc(Math.max(256, Math.floor(target * 0.4)));
    for (let k = 0; k < attachment.length; k++) attachment[k] = Math.floor(rnd() * 256);
    body = [
      `--${b}`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      text,
      `--${b}`,
      `Content-Type: application/pdf; name="report-${i}.pdf"`,
      `Content-Disposition: attachment; filename="report-${i}.pdf"`,
      "Content-Transfer-Encoding: base64",
      "",
      attachment.toString("base64").match(/.{1,76}/g)!.join("\r\n"),
      `--${b}--`,
      "",
    ].join("\r\n");
  }
  return Buffer.from(`${header.join("\r\n")}\r\n\r\n${body}`, "utf8");
}

function fill(words: (n: number) => string, size: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const p = words(40);
    parts.push(p);
    n += p.length + 4;
  }
  return parts.join("\r\n\r\n");
}

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOREM =
  "the quarterly figures show steady growth in every region while costs stayed flat we will review the plan on monday please send your comments before friday über café naïve façade revenue margin forecast pipeline customers support latency storage mailbox delivery report meeting agenda".split(
    " ",
  );
