import { readFileSync } from "node:fs";
import { parseContent } from "../../libs/antispam/src/message.ts";
import { trainSet } from "./corpus.ts";
const MISSED = new Set(readFileSync("/tmp/missed.txt", "utf8").trim().split("\n"));
const counts: Record<string, Record<string, number>> = {};
const bump = (k: string, l: string, missed: boolean) => { counts[k] ??= { spam: 0, easy: 0, hard: 0, missed: 0 }; counts[k]![l]!++; if (missed) counts[k]!.missed!++; };
for (const m of trainSet()) {
  const c = await parseContent(m.bytes, 300_000);
  const missed = m.label === "spam" && MISSED.has(m.file.slice(0, 5));
  const xm = String(c.parsed.headers.get("x-mailer") ?? c.parsed.headers.get("user-agent") ?? "");
  const id = c.parsed.messageId ?? "";
  bump("all", m.label, missed);
  if (/^Mozilla 4\./.test(xm)) { bump("moz4", m.label, missed); if (!/^<[0-9A-F]{8}\.[0-9A-F]{6,8}@/.test(id)) { bump("moz4-bad-id", m.label, missed); if (m.label !== "spam") console.log(m.label, xm, id); } }
  if (/The Bat!/.test(xm)) { bump("bat", m.label, missed); if (!/^<\d+\.\d{14}@/.test(id)) { bump("bat-bad-id", m.label, missed); console.log(m.label, xm, id); } }
  if (/Eudora/i.test(xm)) { bump("eudora", m.label, missed); if (!/^<(?:\d+\.){4,5}\d{14}\.[0-9a-f]{8}@/.test(id)) { bump("eudora-bad-id", m.label, missed); console.log(m.label, xm, id); } }
  if (/Pegasus/i.test(xm)) bump("pegasus", m.label, missed);
  if (/Mutt/i.test(xm)) bump("mutt", m.label, missed);
}
console.table(counts);
