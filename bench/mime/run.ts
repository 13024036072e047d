/**
 * pnpm bench:mime — how fast libs/mime parses a typical 10 KB message (from a buffer, and streamed
 * in 4 KB chunks as delivery reads a blob). Prints a table and one JSON line.
 */
import { parseMessage, parseMessageBuffer } from "@postline/mime";
import { typicalMessage } from "../../libs/mime/test/fixtures.ts";

const message = typicalMessage();
for (let i = 0; i < 500; i++) parseMessageBuffer(message); // warm up
let n = 0;
const started = performance.now();
while (performance.now() - started < 1000) {
  parseMessageBuffer(message);
  n++;
}
const perSecond = (n * 1000) / (performance.now() - started);

// Streamed in 16 KB-ish network chunks, as delivery reads a blob.
let m = 0;
const streamStarted = performance.now();
while (performance.now() - streamStarted < 500) {
  await parseMessage((async function* () { for (let i = 0; i < message.length; i += 4096) yield message.subarray(i, i + 4096); })());
  m++;
}
const streamedPerSecond = (m * 1000) / (performance.now() - streamStarted);

console.log(`| measure | value |\n| --- | --- |\n| message size | ${message.length} bytes |\n| from a buffer | ${Math.round(perSecond)} msgs/s (${(1000 / perSecond).toFixed(3)} ms each) |\n| streamed, 4 KB chunks | ${Math.round(streamedPerSecond)} msgs/s |`);
console.log(JSON.stringify({ message_bytes: message.length, msgs_per_s_buffer: Math.round(perSecond), msgs_per_s_streamed: Math.round(streamedPerSecond) }));
