import type { SeqNumber, SequenceSet } from "../types.ts";
import type { Reader } from "./reader.ts";

function seqNumber(r: Reader): SeqNumber {
  if (r.tryChar("*")) return "*";
  return r.nzNumber("a sequence number");
}

/** sequence-set = (seq-number / seq-range) ["," sequence-set], or `$` (RFC 5182). */
export function sequenceSet(r: Reader): SequenceSet {
  if (r.tryChar("$")) return { kind: "saved" };
  const ranges: Array<{ from: SeqNumber; to: SeqNumber }> = [];
  do {
    const from = seqNumber(r);
    const to = r.tryChar(":") ? seqNumber(r) : from;
    ranges.push({ from, to });
    if (ranges.length > 100_000) r.fail("sequence set too long");
  } while (r.tryChar(","));
  return { kind: "set", ranges };
}

/** True when the next octet can start a sequence set. */
export function startsSequenceSet(r: Reader): boolean {
  const c = r.peek();
  return (c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x24;
}
