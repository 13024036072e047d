/**
 * Rendered ENVELOPE texts by message row id, shared by the sessions of this process. A message row's
 * envelope never changes (a copy is a new row), so entries never go stale; the map is bounded and
 * forgets the oldest entries first. `FETCH 1:* (FLAGS ENVELOPE)` on a mailbox whose envelopes are
 * cached then reads only (uid, modseq, flags) from the database.
 */
import type { Queryable } from "@postline/db";
import type { Envelope } from "@postline/mime";
import { envelopeText } from "../../protocol/envelope.ts";
import type { MessageMeta } from "../core/messages.ts";

const MAX_ENTRIES = 50_000;
const cache = new Map<number, string>();

export function cachedEnvelope(id: number): string | undefined {
  return cache.get(id);
}

export function rememberEnvelope(id: number, envelope: Envelope): string {
  const text = envelopeText(envelope);
  if (cache.size >= MAX_ENTRIES) {
    // Maps iterate in insertion order: drop the oldest tenth.
    let drop = MAX_ENTRIES / 10;
    for (const key of cache.keys()) {
      cache.delete(key);
      if (--drop <= 0) break;
    }
  }
  cache.set(id, text);
  return text;
}

/** Loads the envelopes the cache lacks (one query) into the metas. */
export async function fillEnvelopes(db: Queryable, metas: MessageMeta[]): Promise<void> {
  const missing = metas.filter((m) => m.envelope === undefined && !cache.has(m.id));
  if (missing.length === 0) return;
  const r = await db.query<{ id: number; envelope: Envelope | null }>("SELECT id, envelope FROM messages WHERE id = ANY($1::bigint[])", [missing.map((m) => m.id)]);
  const byId = new Map(r.rows.map((x) => [Number(x.id), x.envelope]));
  for (const m of missing) {
    const e = byId.get(m.id) ?? null;
    m.envelope = e;
    if (e) rememberEnvelope(m.id, e);
  }
}
